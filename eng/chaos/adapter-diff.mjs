// Compares two PEFT adapters (adapter_model.safetensors): same tensors, same shapes and dtypes, and the largest absolute
// difference of their values. Hand-written: the safetensors layout (8-byte header length, JSON header, raw little-endian
// data) is small, and node is already a prerequisite (eng/prereqs.sh), so the chaos script needs no Python packages.
// Usage: node eng/chaos/adapter-diff.mjs expected.safetensors actual.safetensors  → one JSON line; exit 0 when within 1e-6.
import { readFileSync } from "node:fs";

function read(path) {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  delete header.__metadata__;
  return { bytes, header, base: 8 + headerLength };
}

function values({ bytes, base }, info) {
  const [start, end] = info.data_offsets;
  const slice = bytes.subarray(base + start, base + end);
  const copy = new ArrayBuffer(slice.length);
  new Uint8Array(copy).set(slice);
  switch (info.dtype) {
    case "F32": return new Float32Array(copy);
    case "F64": return new Float64Array(copy);
    default: throw new Error(`dtype ${info.dtype} is not compared (F32/F64 only)`);
  }
}

const [expectedPath, actualPath] = process.argv.slice(2);
if (!expectedPath || !actualPath) {
  console.error("usage: node adapter-diff.mjs expected.safetensors actual.safetensors");
  process.exit(2);
}
const expected = read(expectedPath);
const actual = read(actualPath);
const names = Object.keys(expected.header).sort();
const problems = [];
if (JSON.stringify(names) !== JSON.stringify(Object.keys(actual.header).sort())) problems.push("different tensor names");
let maxAbs = 0, identical = problems.length === 0, count = 0;
for (const name of names) {
  const a = expected.header[name], b = actual.header[name];
  if (!b) continue;
  if (a.dtype !== b.dtype || JSON.stringify(a.shape) !== JSON.stringify(b.shape)) { problems.push(`${name}: dtype/shape differ`); identical = false; continue; }
  const x = values(expected, a), y = values(actual, b);
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    if (!Object.is(x[i], y[i])) identical = false;
    count++;
  }
}
const ok = problems.length === 0 && maxAbs <= 1e-6;
console.log(JSON.stringify({ identical, maxAbsDiff: maxAbs, values: count, tensors: names.length, problems }));
process.exit(ok ? 0 : 1);
