"""
The Python reference for the CUDA comparison (docs/benchmarks/gpu.md): the same LoRA SFT run as `ft train` on the GPU
machine, with Hugging Face transformers + peft. Same model folder, data, chat template, max length, LoRA (r, alpha,
targets, dropout 0), AdamW, batch and steps. Base weights in BF16; LoRA weights in FP32 (peft's autocast_adapter_dtype).
Prints one JSON line: median step time, tokens/s and peak allocated memory.
"""
import json, statistics, sys, time
import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
from peft import LoraConfig, get_peft_model

model_dir, data, steps, batch, max_len, r, alpha = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
tok = PreTrainedTokenizerFast(tokenizer_file=f"{model_dir}/tokenizer.json")
tok.chat_template = json.load(open(f"{model_dir}/tokenizer_config.json"))["chat_template"]
rows = [json.loads(l)["messages"] for l in open(data, encoding="utf-8")]
texts = [tok.apply_chat_template(m, tokenize=False) for m in rows]
encoded = [tok(t, add_special_tokens=False)["input_ids"][:max_len] for t in texts]

model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16).cuda()
cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, task_type="CAUSAL_LM",
                 target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
model = get_peft_model(model, cfg)
for p in model.parameters():
    if p.requires_grad: p.data = p.data.float()
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4, weight_decay=0.0)
pad = tok.pad_token_id if tok.pad_token_id is not None else 0

def batch_at(i):
    chunk = [encoded[(i * batch + j) % len(encoded)] for j in range(batch)]
    t = max(len(c) for c in chunk)
    ids = torch.full((batch, t), pad, dtype=torch.long); labels = torch.full((batch, t), -100, dtype=torch.long)
    mask = torch.zeros((batch, t), dtype=torch.long)
    for k, c in enumerate(chunk):
        ids[k, :len(c)] = torch.tensor(c); labels[k, :len(c)] = torch.tensor(c); mask[k, :len(c)] = 1
    return ids.cuda(), labels.cuda(), mask.cuda(), int(mask.sum())

torch.cuda.reset_peak_memory_stats()
times, tokens = [], []
model.train()
for i in range(steps):
    ids, labels, mask, n = batch_at(i)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize(); times.append(time.perf_counter() - t0); tokens.append(n)
warm = times[5:] or times
print(json.dumps({"stack": f"torch {torch.__version__} + peft", "median_step_ms": 1000 * statistics.median(warm),
                  "tokens_per_s": sum(tokens[5:] or tokens) / sum(warm), "peak_allocated_mib": torch.cuda.max_memory_allocated() / 2**20,
                  "final_loss": float(loss)}))
