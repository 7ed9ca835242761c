// Drives the official OpenAI Node SDK's Responses API against an aligngate
// proxy that corrects the answers.
//
// Run by proxy/responses_sdk_test.go, which starts a Responses test
// upstream (a reasoning item, a function call and a message), a correction
// backend and the proxy in front of them, then sets:
//
//   ALIGNGATE_BASE_URL  the proxy's OpenAI base URL, e.g. http://127.0.0.1:1234/v1
//   ALIGNGATE_EXPECTED  the corrected text the SDK must assemble as output_text
//   ALIGNGATE_MODE      the correction mode the proxy runs ("aligner" or "stream")
//
// Each case prints "ok - <name>" or "not ok - <name>: <reason>"; the process
// exits 1 if any case failed.

import assert from "node:assert/strict";
import OpenAI from "openai";

const baseURL = process.env.ALIGNGATE_BASE_URL;
const expected = process.env.ALIGNGATE_EXPECTED;
const mode = process.env.ALIGNGATE_MODE;
if (!baseURL || expected === undefined || !mode) {
  console.error("ALIGNGATE_BASE_URL, ALIGNGATE_EXPECTED and ALIGNGATE_MODE must be set");
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey: "sk-aligngate-test", maxRetries: 0, timeout: 20_000 });
const request = { model: "gpt-x", instructions: "Be kind.", input: "Q?" };

function checkOutput(res) {
  assert.equal(res.object, "response", "object");
  assert.deepEqual(res.output.map((o) => o.type), ["reasoning", "function_call", "message"], "output items");
  assert.equal(res.output[1].name, "get_weather", "function call kept");
  assert.equal(res.output_text, expected, "output_text");
  assert.equal(res.aligngate?.mode, mode, "aligngate report mode");
  assert.equal(res.aligngate?.corrected, true, "aligngate report corrected");
}

async function create() {
  const { data, response } = await client.responses.create(request).withResponse();
  assert.equal(response.headers.get("x-aligngate-corrected"), "true", "corrected header");
  checkOutput(data);
}

async function createStream() {
  const stream = await client.responses.create({ ...request, stream: true });
  let seq = -1;
  let text = "";
  let completed;
  for await (const ev of stream) {
    assert.ok(ev.sequence_number > seq, `sequence ${ev.sequence_number} after ${seq}`);
    seq = ev.sequence_number;
    if (ev.type === "response.output_text.delta") text += ev.delta;
    if (ev.type === "response.output_text.done") assert.equal(ev.text, expected, "output_text.done");
    if (ev.type === "response.completed") completed = ev.response;
  }
  assert.equal(text, expected, "deltas");
  assert.ok(completed, "response.completed");
  const final = completed.output[2].content.map((c) => c.text).join("");
  assert.equal(final, expected, "completed text");
  assert.equal(completed.aligngate?.corrected, true, "aligngate report");
}

async function streamHelper() {
  const stream = client.responses.stream(request);
  let deltas = 0;
  let snapshot = "";
  stream.on("response.output_text.delta", (ev) => {
    deltas++;
    snapshot = ev.snapshot;
  });
  const events = [];
  stream.on("event", (ev) => events.push(ev.type));
  const final = await stream.finalResponse();
  assert.ok(deltas >= 1, "deltas");
  assert.equal(snapshot, expected, "snapshot after the last delta");
  assert.equal(events[0], "response.created", "first event");
  assert.equal(events.at(-1), "response.completed", "last event");
  checkOutput(final);
}

const cases = [
  ["responses create", create],
  ["responses create stream", createStream],
  ["responses stream helper", streamHelper],
];

let failed = false;
for (const [name, fn] of cases) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failed = true;
    console.log(`not ok - ${name}: ${err?.stack ?? err}`);
  }
}
process.exit(failed ? 1 : 0);
