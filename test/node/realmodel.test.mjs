// Drives the official OpenAI Node SDK against aligngate correcting with the
// real demo model (run by cmd/aligngate/sdk_real_test.go, which starts a
// fake upstream and aligngate in front of it), and prints one JSON line per
// case for the Go test to check:
//
//   {"case":"non-stream"|"stream", "text":..., "report":{...}|null,
//    "finish":..., "role":bool, "usage":bool, "chunks":n}
//
// Environment: ALIGNGATE_BASE_URL (the proxy's /v1 URL), ALIGNGATE_QUESTION.
// Any SDK error (a chunk it cannot parse) fails the script with exit 1.
import OpenAI from "openai";

const baseURL = process.env.ALIGNGATE_BASE_URL;
const question = process.env.ALIGNGATE_QUESTION;
if (!baseURL || !question) {
  console.error("ALIGNGATE_BASE_URL and ALIGNGATE_QUESTION must be set");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: "sk-aligngate-test", maxRetries: 0, timeout: 300_000 });
const messages = [{ role: "user", content: question }];

// report finds the aligngate member on a chunk or its choice.
const report = (obj) => obj?.choices?.[0]?.aligngate ?? obj?.aligngate ?? null;

async function nonStream() {
  const res = await client.chat.completions.create({ model: "upstream-model", messages });
  const c = res.choices[0];
  return { case: "non-stream", text: c.message.content, report: report(res), finish: c.finish_reason, role: c.message.role === "assistant", usage: !!res.usage, chunks: 1 };
}

async function stream() {
  const s = await client.chat.completions.create({
    model: "upstream-model", messages, stream: true, stream_options: { include_usage: true },
  });
  let text = "", rep = null, finish = null, role = false, usage = false, chunks = 0;
  for await (const chunk of s) {
    chunks++;
    const c = chunk.choices?.[0];
    if (c?.delta?.role === "assistant") role = true;
    if (c?.delta?.content) text += c.delta.content;
    if (c?.finish_reason) finish = c.finish_reason;
    rep = report(chunk) ?? rep;
    if (chunk.usage) usage = true;
  }
  return { case: "stream", text, report: rep, finish, role, usage, chunks };
}

let failed = false;
for (const run of [nonStream, stream]) {
  try {
    console.log(JSON.stringify(await run()));
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ case: run.name, error: String(err?.stack ?? err) }));
  }
}
process.exit(failed ? 1 : 0);
