// Reference for component tests: runs the normalizer and pre-tokenizer of each given tokenizer.json fragment with
// @huggingface/tokenizers on every text. Usage: node components.mjs <input.json>
//   input.json: {"configs": [{"normalizer": …, "pre_tokenizer": …}, …], "texts": ["…", …]}
//   Prints one JSON line per config: [{"normalized": "…", "pretokens": ["…", …]}, …] (one entry per text).
//   Optional "decodes": [{"decoder": …, "tokens": ["…", …]}, …] adds one last line: the decoded strings, in order.
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [inputPath] = process.argv.slice(2);
if (!inputPath) {
  console.error("usage: node components.mjs <input.json>");
  process.exit(2);
}
const { configs, texts, decodes } = JSON.parse(readFileSync(inputPath, "utf8"));
const lines = configs.map((config) => {
  const tokenizer = new Tokenizer({
    model: { type: "BPE", vocab: { a: 0 }, merges: [] },
    normalizer: config.normalizer ?? null,
    pre_tokenizer: config.pre_tokenizer ?? null,
    post_processor: null,
    decoder: null,
    added_tokens: [],
  }, {});
  return JSON.stringify(texts.map((text) => {
    const normalized = tokenizer.normalizer ? tokenizer.normalizer(text) : text;
    const pretokens = tokenizer.pre_tokenizer ? tokenizer.pre_tokenizer(normalized, { section_index: 0 }) : [normalized];
    return { normalized, pretokens };
  }));
});
if (decodes) {
  lines.push(JSON.stringify(decodes.map(({ decoder, tokens }) => new Tokenizer({
    model: { type: "BPE", vocab: { a: 0 }, merges: [] }, normalizer: null, pre_tokenizer: null, post_processor: null, decoder, added_tokens: [],
  }, {}).decoder(tokens))));
}
process.stdout.write(lines.join("\n") + "\n");
