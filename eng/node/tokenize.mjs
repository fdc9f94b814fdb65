// Reference tokenizer for parity tests: @huggingface/tokenizers (pure JS) on a tokenizer.json.
// Usage: node tokenize.mjs <folder-with-tokenizer.json> <corpus.json> [--no-special]
//   corpus.json: a JSON array of strings. Prints one JSON object per line:
//   {"ids":[...], "decoded":"...", "decodedSkip":"...", "tokens":[...]}
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const [folder, corpusPath, ...flags] = process.argv.slice(2);
if (!folder || !corpusPath) {
  console.error("usage: node tokenize.mjs <folder> <corpus.json> [--no-special]");
  process.exit(2);
}
const readJson = (name) => {
  const p = join(folder, name);
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : {};
};
const tokenizer = new Tokenizer(readJson("tokenizer.json"), readJson("tokenizer_config.json"));
const addSpecial = !flags.includes("--no-special");
const texts = JSON.parse(readFileSync(corpusPath, "utf8"));
const out = [];
for (const text of texts) {
  const enc = tokenizer.encode(text, { add_special_tokens: addSpecial });
  out.push(JSON.stringify({
    ids: enc.ids,
    tokens: enc.tokens,
    // The library refuses to decode an empty id list; the empty text is what a decoder gives for it.
    decoded: enc.ids.length === 0 ? "" : tokenizer.decode(enc.ids, { skip_special_tokens: false }),
    decodedSkip: enc.ids.length === 0 ? "" : tokenizer.decode(enc.ids, { skip_special_tokens: true }),
  }));
}
process.stdout.write(out.join("\n") + "\n");
