// Reference chat-template renderer for parity tests: @huggingface/jinja (what transformers.js uses).
// Usage: node render-template.mjs <cases.json>
//   cases.json: [{"template": "...", "context": {...}}, ...]
// Prints a JSON array with, per case, {"output": "..."} or {"error": "..."}.
import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";

const [casesPath] = process.argv.slice(2);
if (!casesPath) {
  console.error("usage: node render-template.mjs <cases.json>");
  process.exit(2);
}
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const results = cases.map(({ template, context }) => {
  try {
    return { output: new Template(template).render(context) };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(results));
