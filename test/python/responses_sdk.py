"""Drives the official OpenAI Python SDK's Responses API against an
aligngate proxy that corrects the answers.

Run by proxy/responses_sdk_test.go, which starts a Responses test upstream
(a reasoning item, a function call and a message), a correction backend and
the proxy in front of them, then sets:

  ALIGNGATE_BASE_URL  the proxy's OpenAI base URL, e.g. http://127.0.0.1:1234/v1
  ALIGNGATE_EXPECTED  the corrected text the SDK must assemble as output_text
  ALIGNGATE_MODE      the correction mode the proxy runs ("aligner" or "stream")

Each case prints "ok - <name>" or "not ok - <name>: <reason>"; the process
exits 1 if any case failed.
"""

import os
import sys
import traceback

import openai

BASE_URL = os.environ["ALIGNGATE_BASE_URL"]
EXPECTED = os.environ["ALIGNGATE_EXPECTED"]
MODE = os.environ["ALIGNGATE_MODE"]

client = openai.OpenAI(base_url=BASE_URL, api_key="sk-aligngate-test", max_retries=0, timeout=20)
REQUEST = {"model": "gpt-x", "instructions": "Be kind.", "input": "Q?"}


def report(res):
    extra = res.model_extra or {}
    return extra.get("aligngate") or {}


def check_output(res):
    assert res.object == "response", res.object
    assert [o.type for o in res.output] == ["reasoning", "function_call", "message"], res.output
    assert res.output[1].name == "get_weather", res.output[1]
    assert res.output_text == EXPECTED, f"output_text {res.output_text!r}, want {EXPECTED!r}"
    rep = report(res)
    assert rep.get("mode") == MODE and rep.get("corrected") is True, rep


def create():
    raw = client.responses.with_raw_response.create(**REQUEST)
    assert raw.headers.get("x-aligngate-corrected") == "true", raw.headers
    check_output(raw.parse())


def create_stream():
    seq, text, completed = -1, "", None
    for ev in client.responses.create(**REQUEST, stream=True):
        assert ev.sequence_number > seq, (ev.sequence_number, seq)
        seq = ev.sequence_number
        if ev.type == "response.output_text.delta":
            text += ev.delta
        elif ev.type == "response.output_text.done":
            assert ev.text == EXPECTED, ev.text
        elif ev.type == "response.completed":
            completed = ev.response
    assert text == EXPECTED, f"deltas {text!r}"
    assert completed is not None, "no response.completed"
    check_output(completed)


def stream_helper():
    deltas, snapshot, types = 0, "", []
    with client.responses.stream(**REQUEST) as stream:
        for ev in stream:
            types.append(ev.type)
            if ev.type == "response.output_text.delta":
                deltas += 1
                snapshot = ev.snapshot
        final = stream.get_final_response()
    assert deltas >= 1, "no delta"
    assert snapshot == EXPECTED, f"snapshot {snapshot!r}"
    assert types[0] == "response.created" and types[-1] == "response.completed", types
    check_output(final)


CASES = [
    ("responses create", create),
    ("responses create stream", create_stream),
    ("responses stream helper", stream_helper),
]

failed = False
for name, fn in CASES:
    try:
        fn()
        print(f"ok - {name}")
    except Exception:  # noqa: BLE001 - every failure is reported per case
        failed = True
        print(f"not ok - {name}: {traceback.format_exc()}")
sys.stdout.flush()
sys.exit(1 if failed else 0)
