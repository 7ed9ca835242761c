"""Drives the official OpenAI Python SDK against aligngate correcting with
the real demo model (run by cmd/aligngate/sdk_real_test.go) and prints one
JSON line per case, as test/node/realmodel.test.mjs does:

  {"case": "non-stream"|"stream", "text": ..., "report": {...}|None,
   "finish": ..., "role": bool, "usage": bool, "chunks": n}

Environment: ALIGNGATE_BASE_URL (the proxy's /v1 URL), ALIGNGATE_QUESTION.
Any SDK error fails the script with exit code 1.
"""

import json
import os
import sys
import traceback

import openai

client = openai.OpenAI(base_url=os.environ["ALIGNGATE_BASE_URL"], api_key="sk-aligngate-test", max_retries=0, timeout=300)
messages = [{"role": "user", "content": os.environ["ALIGNGATE_QUESTION"]}]


def report(obj):
    """The aligngate member of a response or chunk, on its first choice or on it."""
    d = obj.to_dict()
    choices = d.get("choices") or [{}]
    return choices[0].get("aligngate") or d.get("aligngate")


def non_stream():
    res = client.chat.completions.create(model="upstream-model", messages=messages)
    c = res.choices[0]
    return {"case": "non-stream", "text": c.message.content, "report": report(res), "finish": c.finish_reason,
            "role": c.message.role == "assistant", "usage": res.usage is not None, "chunks": 1}


def stream():
    s = client.chat.completions.create(model="upstream-model", messages=messages, stream=True,
                                       stream_options={"include_usage": True})
    out = {"case": "stream", "text": "", "report": None, "finish": None, "role": False, "usage": False, "chunks": 0}
    for chunk in s:
        out["chunks"] += 1
        if chunk.choices:
            c = chunk.choices[0]
            if c.delta.role == "assistant":
                out["role"] = True
            if c.delta.content:
                out["text"] += c.delta.content
            if c.finish_reason:
                out["finish"] = c.finish_reason
        out["report"] = report(chunk) or out["report"]
        if chunk.usage is not None:
            out["usage"] = True
    return out


failed = False
for case in (non_stream, stream):
    try:
        print(json.dumps(case()), flush=True)
    except Exception:  # the SDK could not read what aligngate sent
        failed = True
        print(json.dumps({"case": case.__name__, "error": traceback.format_exc()}), flush=True)
sys.exit(1 if failed else 0)
