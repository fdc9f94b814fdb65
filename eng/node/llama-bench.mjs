// Prefill and decode throughput of a GGUF under real llama.cpp (node-llama-cpp's prebuilt linux-x64 CPU binaries),
// measured the way `ft generate` reports it: prefill = the prompt pass up to the first generated token, decode = the
// remaining tokens one at a time. Greedy, end-of-generation tokens ignored so every run decodes the same count.
//
// Usage: node eng/node/llama-bench.mjs model.gguf '<json array of prompt token ids>' maxTokens threads repeats
// Output (stdout, one JSON line): { prompt_tokens, generated_tokens, prefill_seconds, decode_seconds, runs }
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const [modelPath, promptJson, maxTokensArg, threadsArg, repeatsArg] = process.argv.slice(2);
const prompt = JSON.parse(promptJson);
const maxTokens = Number(maxTokensArg ?? 128);
const threads = Number(threadsArg ?? 2);
const repeats = Number(repeatsArg ?? 3);

const llama = await getLlama({
  gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true, progressLogs: false,
  logLevel: LlamaLogLevel.error,
});
const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
const context = await model.createContext({ contextSize: prompt.length + maxTokens + 8, sequences: 1, threads, batchSize: 512 });
const runs = [];
for (let r = 0; r < repeats + 1; r++) {             // the first run warms up and is not reported
  const sequence = context.getSequence();
  const start = performance.now();
  let first = 0, count = 0;
  for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    if (count === 0) first = performance.now();
    if (++count >= maxTokens) break;
  }
  const end = performance.now();
  sequence.dispose();
  if (r > 0) runs.push({ prefill: (first - start) / 1000, decode: (end - first) / 1000, generated: count });
}
await context.dispose();
await model.dispose();
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  prompt_tokens: prompt.length,
  generated_tokens: runs[0].generated,
  prefill_seconds: median(runs.map(r => r.prefill)),
  decode_seconds: median(runs.map(r => r.decode)),
  runs,
}));
