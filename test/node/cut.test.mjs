// Drives the official OpenAI Node SDK against an aligngate proxy whose
// upstream cuts a non-SSE answer mid-body (run by proxy/cut_test.go, which
// sets ALIGNGATE_BASE_URL). The SDK must reject, not resolve with a
// truncated answer. Prints "ok - cut body" or "not ok - cut body: reason".

import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.ALIGNGATE_BASE_URL,
  apiKey: "sk-aligngate-test",
  maxRetries: 0,
  timeout: 10_000,
});

try {
  const res = await client.chat.completions.create({
    model: "m",
    messages: [{ role: "user", content: "hi" }],
  });
  console.log(`not ok - cut body: resolved with ${JSON.stringify(res)}`);
  process.exit(1);
} catch (err) {
  console.log(`ok - cut body`);
  console.error(`rejected as expected: ${err?.constructor?.name}: ${err?.message}`);
}
