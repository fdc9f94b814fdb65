// Throughput baseline for `ft tokenize --bench`: @huggingface/tokenizers encoding every non-empty line of a file,
// one warm-up pass then <passes> timed passes. Usage: node tokenize-bench.mjs <folder> <file> <passes>
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const [folder, file, passesArg] = process.argv.slice(2);
const readJson = (name) => (existsSync(join(folder, name)) ? JSON.parse(readFileSync(join(folder, name), "utf8")) : {});
const tokenizer = new Tokenizer(readJson("tokenizer.json"), readJson("tokenizer_config.json"));
const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
const passes = Number(passesArg ?? 10);
for (const line of lines) tokenizer.encode(line, { add_special_tokens: false });
let tokens = 0, chars = 0;
const start = process.hrtime.bigint();
for (let p = 0; p < passes; p++) {
  for (const line of lines) {
    tokens += tokenizer.encode(line, { add_special_tokens: false }).ids.length;
    chars += line.length;
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({
  engine: "@huggingface/tokenizers 0.2.0 (node " + process.version + ")",
  records: lines.length * passes, chars, tokens, seconds: Math.round(seconds * 1e4) / 1e4,
  tokens_per_s: Math.round(tokens / seconds), chars_per_s: Math.round(chars / seconds),
}));
