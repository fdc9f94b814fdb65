"""Writes the GPU comparison's training data: N chat examples of varied length (JSONL, {"messages": [...]})."""
import json, random, sys

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
words = "the model learns to answer in the style of our team with short precise sentences about data".split()
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(40, 120)))
        a = " ".join(rng.choice(words) for _ in range(rng.randint(60, 160)))
        f.write(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}) + "\n")
