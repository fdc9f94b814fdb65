#!/usr/bin/env bash
# ft tokenize --jsonl throughput vs one ft process per text (what a script calling `ft tokenize --text` per record pays).
# Usage: eng/bench/tokenize-jsonl-bench.sh <tokenizer-folder> [lines=5000] [per-process samples=10]
# Needs a Release build of services/Cli (dotnet build services/Cli/Cli.csproj -c Release). Texts: the non-empty lines of
# docs/*.md, cycled to <lines> records. Prints one JSON line with both rates and their ratio.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
folder="$1"; lines="${2:-5000}"; samples="${3:-10}"
ft="$root/services/Cli/bin/Release/net10.0/ft.dll"
[ -f "$ft" ] || { echo "build services/Cli first (Release): $ft is missing" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cat "$root"/docs/*.md | grep -v '^\s*$' > "$work/texts.txt"
python3 - "$work/texts.txt" "$lines" > "$work/in.jsonl" <<'PY'
import json, sys
texts = open(sys.argv[1], encoding="utf-8").read().splitlines()
for i in range(int(sys.argv[2])):
    print(json.dumps({"text": texts[i % len(texts)]}, ensure_ascii=False))
PY
now() { date +%s.%N; }
start=$(now)
dotnet "$ft" tokenize "$folder" --jsonl "$work/in.jsonl" --out "$work/out.jsonl" 2>/dev/null
jsonl_s=$(echo "$(now) - $start" | bc -l)
tokens=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['ids']) for l in open(sys.argv[1])))" "$work/out.jsonl")
start=$(now)
head -n "$samples" "$work/texts.txt" | while IFS= read -r text; do
  dotnet "$ft" tokenize "$folder" --text "$text" --json >/dev/null
done
per_s=$(echo "$(now) - $start" | bc -l)
python3 - "$lines" "$tokens" "$jsonl_s" "$samples" "$per_s" <<'PY'
import json, sys
lines, tokens, jsonl_s, samples, per_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print(json.dumps({
    "jsonl": {"texts": lines, "tokens": tokens, "seconds": round(jsonl_s, 3), "texts_per_s": round(lines / jsonl_s, 1)},
    "process_per_text": {"texts": samples, "seconds": round(per_s, 3), "texts_per_s": round(samples / per_s, 2)},
    "speedup": round((lines / jsonl_s) / (samples / per_s), 1),
}))
PY
