// Drives the official OpenAI Node SDK against an aligngate proxy.
//
// Run by proxy/nodesdk_test.go, which starts a fake upstream and the proxy in
// front of it, then sets:
//
//   ALIGNGATE_BASE_URL  the proxy's OpenAI base URL, e.g. http://127.0.0.1:1234/v1
//   ALIGNGATE_FIXTURE   JSON describing what the fake upstream answers:
//                       {model, error_model, id, content, usage:{prompt_tokens,
//                        completion_tokens, total_tokens}, error_message}
//   ALIGNGATE_UPSTREAM_URL  (optional) the fake upstream itself. The stream
//                       case then asks for a gated stream ("user":"gated"):
//                       the upstream holds the rest of the answer until this
//                       script, having received the first delta, POSTs
//                       /release-gate; the Go test fails if it timed out
//                       waiting, i.e. if the proxy buffered the stream.
//
// Each case prints "ok - <name>" or "not ok - <name>: <reason>"; the process
// exits 1 if any case failed. The Go test checks both the exit code and that
// every case reported ok, so a script that silently skips a case fails too.

import assert from "node:assert/strict";
import OpenAI from "openai";

const baseURL = process.env.ALIGNGATE_BASE_URL;
const fixtureText = process.env.ALIGNGATE_FIXTURE;
if (!baseURL || !fixtureText) {
  console.error("ALIGNGATE_BASE_URL and ALIGNGATE_FIXTURE must be set");
  process.exit(2);
}
const fx = JSON.parse(fixtureText);
const upstreamURL = process.env.ALIGNGATE_UPSTREAM_URL;

const client = new OpenAI({
  baseURL,
  apiKey: "sk-aligngate-test",
  maxRetries: 0, // a retry would hide a proxy that fails once
  timeout: 10_000,
});

const messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello." },
];

async function nonStream() {
  const res = await client.chat.completions.create({ model: fx.model, messages });
  assert.equal(res.id, fx.id, "id");
  assert.equal(res.object, "chat.completion", "object");
  assert.equal(res.choices.length, 1, "one choice");
  assert.equal(res.choices[0].message.role, "assistant", "role");
  assert.equal(res.choices[0].message.content, fx.content, "content");
  assert.equal(res.choices[0].finish_reason, "stop", "finish_reason");
  assert.deepEqual(res.usage, fx.usage, "usage");
}

async function nonStreamWithResponse() {
  // withResponse exposes the raw HTTP response: the proxy must answer JSON.
  const { data, response } = await client.chat.completions
    .create({ model: fx.model, messages })
    .withResponse();
  assert.equal(response.status, 200, "status");
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/, "content-type");
  assert.equal(data.choices[0].message.content, fx.content, "content");
}

async function releaseGate() {
  if (!upstreamURL) return;
  const res = await fetch(`${upstreamURL}/release-gate`, { method: "POST" });
  assert.equal(res.status, 204, "release-gate status");
}

async function stream() {
  const s = await client.chat.completions.create({
    model: fx.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(upstreamURL ? { user: "gated" } : {}),
  });
  let text = "";
  let chunks = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of s) {
    chunks++;
    assert.equal(chunk.id, fx.id, "chunk id");
    assert.equal(chunk.object, "chat.completion.chunk", "chunk object");
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      const delta = choice.delta?.content ?? "";
      if (text === "" && delta !== "") await releaseGate();
      text += delta;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks > 2, `expected several chunks, got ${chunks}`);
  assert.equal(text, fx.content, "concatenated deltas");
  assert.equal(finish, "stop", "finish_reason");
  assert.deepEqual(usage, fx.usage, "usage chunk");
}

async function streamHelper() {
  // The SDK's higher-level stream helper accumulates the message itself.
  const runner = client.chat.completions.stream({ model: fx.model, messages });
  const final = await runner.finalChatCompletion();
  assert.equal(final.id, fx.id, "id");
  assert.equal(final.choices[0].message.content, fx.content, "content");
}

async function expectBadRequest(promiseFn) {
  let caught;
  try {
    await promiseFn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, "expected an error");
  assert.ok(
    caught instanceof OpenAI.BadRequestError,
    `expected BadRequestError, got ${caught?.constructor?.name}: ${caught?.message}`,
  );
  assert.equal(caught.status, 400, "status");
  assert.ok(caught.message.includes(fx.error_message), `message ${JSON.stringify(caught.message)}`);
  assert.equal(caught.error?.message, fx.error_message, "error body message");
}

async function badRequest() {
  await expectBadRequest(() =>
    client.chat.completions.create({ model: fx.error_model, messages }),
  );
}

async function badRequestStream() {
  // An upstream 400 arrives before any SSE byte: the proxy must pass the
  // status through instead of opening a 200 event stream.
  await expectBadRequest(async () => {
    const s = await client.chat.completions.create({
      model: fx.error_model,
      messages,
      stream: true,
    });
    for await (const _ of s) {
      // drain
    }
  });
}

const cases = [
  ["non-stream", nonStream],
  ["non-stream raw response", nonStreamWithResponse],
  ["stream", stream],
  ["stream helper", streamHelper],
  ["bad request", badRequest],
  ["bad request stream", badRequestStream],
];

let failed = 0;
for (const [name, fn] of cases) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok - ${name}: ${err?.stack ?? err}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
