// llama.cpp's own runner for bench/llamacpp: node-llama-cpp 3.22.1 drives the
// same llama.cpp v0.5.0 libraries (@node-llama-cpp/linux-x64@3.22.1) that
// aligngate loads through yzma. The Go benchmark runs this script with a
// JSON job on argv[2] and reads one JSON result from stdout.
//
// job: {model, threads, contextSize, batchSize, sequences, gen, mode, prompts: [[token ids]]}
//   mode "single": evaluate each prompt alone, one after another.
//   mode "parallel": evaluate all prompts at once, one sequence each.
// result: {runs: [{promptTokens, promptMs, promptCpuMs, genTokens, genMs, genCpuMs}],
//          phase: {tokens, wallMs, cpuMs}}   (cpu: user+system of this process)
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: job.threads});
const model = await llama.loadModel({modelPath: job.model, gpuLayers: 0});
const context = await model.createContext({
    contextSize: job.contextSize,
    sequences: job.sequences,
    batchSize: job.batchSize,
    threads: {ideal: job.threads, min: job.threads},
    flashAttention: "auto",
});
const sequences = Array.from({length: job.sequences}, () => context.getSequence());

const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
};

async function run(sequence, tokens) {
    const t0 = performance.now(), c0 = cpuMs();
    let first = 0, c1 = 0, n = 0;
    for await (const _ of sequence.evaluate(tokens, {temperature: 0})) {
        if (n === 0) [first, c1] = [performance.now(), cpuMs()];
        if (++n >= job.gen) break;
    }
    const end = performance.now(), c2 = cpuMs();
    return {promptTokens: tokens.length, promptMs: first - t0, promptCpuMs: c1 - c0, genTokens: n - 1, genMs: end - first, genCpuMs: c2 - c1};
}

// Warm up, as the Go side does.
await run(sequences[0], job.prompts[0].slice(0, 8));

await sequences[0].clearHistory();

const start = performance.now(), startCpu = cpuMs();
let runs;
if (job.mode === "parallel") {
    runs = await Promise.all(job.prompts.map((p, i) => run(sequences[i], p)));
} else {
    runs = [];
    for (const p of job.prompts) {
        runs.push(await run(sequences[0], p));
        await sequences[0].clearHistory();
    }
}
const phase = {tokens: runs.reduce((s, r) => s + r.genTokens + 1, 0), wallMs: performance.now() - start, cpuMs: cpuMs() - startCpu};
process.stdout.write(JSON.stringify({runs, phase}) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
