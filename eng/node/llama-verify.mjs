// Runs GGUF files through real llama.cpp (node-llama-cpp's prebuilt linux-x64 binaries) and prints JSON on stdout:
// for each prompt, llama.cpp's tokenization and its greedy continuation (temperature 0, no penalties), optionally
// with GGUF LoRA adapters applied. One process serves a batch of jobs so the engine starts once.
// Used by tests/FineTune.Export.Tests and by `ft export --verify`.
//
// Usage: node eng/node/llama-verify.mjs request.json
// request: { jobs: [{ model, lora?: [{ path, scale? }], prompts: [string], maxTokens, addBos?: bool|null,
//                     contextSize?, vocabOnly? }] }      addBos null/absent: follow the model's add_bos_token.
// output:  { ok, jobs: [{ ok, error?, model: { bos, eos, eot, addBos, architecture },
//                         results: [{ prompt, tokens, input, generated, text }], log: [..] }], error? }
import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const output = { ok: false, jobs: [] };
let currentLog = [];

async function runJob(llama, job) {
  const result = { ok: false, log: (currentLog = []) };
  const started = performance.now();
  let model;
  try {
    model = await llama.loadModel({ modelPath: job.model, gpuLayers: 0, vocabOnly: !!job.vocabOnly, useMmap: true });
    const addBos = job.addBos ?? model.shouldPrependBosToken;
    result.model = {
      bos: model.tokens.bos,
      eos: model.tokens.eos,
      eot: model.tokens.eot,
      addBos: model.shouldPrependBosToken,
      architecture: model.fileInfo?.metadata?.general?.architecture ?? null,
    };
    const results = [];
    if (job.vocabOnly) {
      for (const prompt of job.prompts)
        results.push({ prompt, tokens: Array.from(model.tokenize(prompt, true)), input: [], generated: [], text: "" });
    } else {
      const lora = (job.lora ?? []).length
        ? { adapters: job.lora.map(a => ({ filePath: a.path, scale: a.scale ?? 1 })) }
        : undefined;
      const context = await model.createContext({ contextSize: job.contextSize ?? 256, sequences: 1, lora, threads: job.threads ?? 1 });
      try {
        for (const prompt of job.prompts) {
          const sequence = context.getSequence();
          const tokens = Array.from(model.tokenize(prompt, true));
          const input = addBos && model.tokens.bos != null ? [model.tokens.bos, ...tokens] : tokens;
          const generated = [];
          for await (const token of sequence.evaluate(input, { temperature: 0, yieldEogToken: true })) {
            generated.push(token);
            if (generated.length >= job.maxTokens) break;
          }
          results.push({ prompt, tokens, input, generated, text: model.detokenize(generated, true) });
          sequence.dispose();
        }
      } finally {
        await context.dispose();
      }
    }
    result.results = results;
    result.ok = true;
  } catch (err) {
    result.error = String(err?.stack ?? err);
  } finally {
    if (model) await model.dispose();
    result.ms = Math.round(performance.now() - started);
  }
  return result;
}

try {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => { currentLog.push(`${level}: ${message}`.trimEnd()); },
  });
  for (const job of request.jobs) output.jobs.push(await runJob(llama, job));
  output.ok = output.jobs.every(j => j.ok);
  await llama.dispose();
} catch (err) {
  output.error = String(err?.stack ?? err);
}
// Exit only once the result is flushed: process.exit right after write cuts off a large result on a pipe.
process.stdout.write(JSON.stringify(output) + "\n", () => process.exit(0));
