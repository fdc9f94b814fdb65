"""PyTorch-eager baseline for `ft bench-train`: the same LoRA training step on the same shapes, in plain PyTorch.

Builds a Llama/Qwen2-family decoder from a Hugging Face config.json (token embeddings, RMSNorm, rotary embeddings,
grouped-query causal attention, SwiGLU MLP, tied or untied LM head, Qwen2's q/k/v biases) with random frozen FP32
weights (weights do not change the speed), puts LoRA of rank r on all 7 projections (y = W x + B A x * alpha / r,
A Kaiming-uniform, B zero, as PEFT initialises them), and times steps of: forward, cross-entropy over every next
token of the batch, backward, AdamW on the LoRA parameters only. Steps are ordered as in `ft bench-train`: one
warm-up, one whose memory is measured, --warmup more, then --steps timed ones. Prints one JSON object.

Hand-written rather than taken from transformers + peft: the only PyTorch here is Debian's python3-torch 1.13, with
no transformers or peft, and the benchmark needs nothing but the model's arithmetic. Python standard library + torch.
"""
import argparse
import ctypes
import json
import math
import os
import resource
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


def rss_kib(field):
    """A VmRSS/VmHWM-style field of /proc/self/status, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Libc:
    """glibc's mallopt/malloc_trim, so freed tensors return to the kernel and RSS shows a step's own memory."""

    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3

    def __init__(self):
        try:
            self.lib = ctypes.CDLL("libc.so.6")
        except OSError:
            self.lib = None

    def separate_large(self):
        if self.lib is None:
            return False
        self.lib.mallopt(self.M_MMAP_THRESHOLD, 64 * 1024)
        self.lib.malloc_trim(0)
        return True

    def restore(self):
        if self.lib is not None:
            self.lib.mallopt(self.M_MMAP_THRESHOLD, 32 * 1024 * 1024)
            self.lib.mallopt(self.M_TRIM_THRESHOLD, 64 * 1024 * 1024)


def reset_peak():
    """Resets VmHWM to the current RSS (Linux clear_refs 5) and returns the RSS in KiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return rss_kib("VmRSS")


class LoraLinear(torch.nn.Module):
    """Frozen weight (out, in) and optional bias; trainable A (r, in), B (out, r); y = x W^T + b + (x A^T B^T) * scaling."""

    def __init__(self, d_in, d_out, rank, alpha, bias):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(d_out, d_in).normal_(0, 0.02), requires_grad=False)
        self.bias = torch.nn.Parameter(torch.zeros(d_out), requires_grad=False) if bias else None
        self.lora_A = torch.nn.Parameter(torch.empty(rank, d_in))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = torch.nn.Parameter(torch.zeros(d_out, rank))
        self.scaling = alpha / rank

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling


class RMSNorm(torch.nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(size), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(torch.nn.Module):
    def __init__(self, c, rank, alpha):
        super().__init__()
        hidden, self.n_head, self.n_kv = c["hidden_size"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.head_dim = c.get("head_dim") or hidden // self.n_head
        bias = c.get("model_type") == "qwen2" or c.get("attention_bias", False)
        self.q_proj = LoraLinear(hidden, self.n_head * self.head_dim, rank, alpha, bias)
        self.k_proj = LoraLinear(hidden, self.n_kv * self.head_dim, rank, alpha, bias)
        self.v_proj = LoraLinear(hidden, self.n_kv * self.head_dim, rank, alpha, bias)
        self.o_proj = LoraLinear(self.n_head * self.head_dim, hidden, rank, alpha, c.get("attention_bias", False))

    def forward(self, x, cos, sin, causal):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)    # (B, nh, T, hs)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)      # (B, nkv, T, hs)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.n_kv != self.n_head:
            k = k.repeat_interleave(self.n_head // self.n_kv, dim=1)                  # (B, nh, T, hs)
            v = v.repeat_interleave(self.n_head // self.n_kv, dim=1)
        # torch 1.13 has no scaled_dot_product_attention: scores, mask, softmax, values (as transformers' eager path).
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)      # (B, nh, T, T)
        scores = scores.masked_fill(causal, float("-inf"))
        y = torch.matmul(torch.softmax(scores, dim=-1), v)                            # (B, nh, T, hs)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, self.n_head * self.head_dim))


class Mlp(torch.nn.Module):
    def __init__(self, c, rank, alpha):
        super().__init__()
        hidden, inter = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = LoraLinear(hidden, inter, rank, alpha, False)
        self.up_proj = LoraLinear(hidden, inter, rank, alpha, False)
        self.down_proj = LoraLinear(inter, hidden, rank, alpha, False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(torch.nn.Module):
    def __init__(self, c, rank, alpha):
        super().__init__()
        eps = c.get("rms_norm_eps", 1e-6)
        self.input_layernorm = RMSNorm(c["hidden_size"], eps)
        self.self_attn = Attention(c, rank, alpha)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], eps)
        self.mlp = Mlp(c, rank, alpha)

    def forward(self, x, cos, sin, causal):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, causal)
        return h + self.mlp(self.post_attention_layernorm(h))


class CausalLM(torch.nn.Module):
    def __init__(self, c, rank, alpha, gradient_checkpointing):
        super().__init__()
        hidden, vocab = c["hidden_size"], c["vocab_size"]
        self.embed_tokens = torch.nn.Parameter(torch.empty(vocab, hidden).normal_(0, 0.02), requires_grad=False)
        self.layers = torch.nn.ModuleList(DecoderLayer(c, rank, alpha) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(hidden, c.get("rms_norm_eps", 1e-6))
        tied = c.get("tie_word_embeddings", False)
        self.lm_head = self.embed_tokens if tied else torch.nn.Parameter(torch.empty(vocab, hidden).normal_(0, 0.02), requires_grad=False)
        self.head_dim = c.get("head_dim") or hidden // c["num_attention_heads"]
        self.theta = c.get("rope_theta", 10000.0)
        self.gradient_checkpointing = gradient_checkpointing

    def rope(self, t):
        inv = 1.0 / (self.theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        angles = torch.outer(torch.arange(t, dtype=torch.float32), inv)
        both = torch.cat((angles, angles), dim=-1)                                    # (T, hs)
        return both.cos(), both.sin()

    def loss(self, ids):
        t = ids.shape[1]
        cos, sin = self.rope(t)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        x = F.embedding(ids, self.embed_tokens)                                       # (B, T, C)
        for layer in self.layers:
            if self.gradient_checkpointing:
                x = checkpoint(layer, x, cos, sin, causal, use_reentrant=False)
            else:
                x = layer(x, cos, sin, causal)
        x = self.norm(x)[:, :-1].reshape(-1, x.shape[-1])                             # every next-token position
        logits = F.linear(x, self.lm_head)                                            # (B·(T-1), V)
        return F.cross_entropy(logits, ids[:, 1:].reshape(-1))


def frozen_matmul_params(c):
    """Weights of every frozen matmul a token passes through (as TrainingBenchmark.FrozenMatmulParameters)."""
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    kv = c.get("num_key_value_heads", heads)
    head_dim = c.get("head_dim") or hidden // heads
    attention = hidden * head_dim * (2 * heads + 2 * kv)
    mlp = 3 * hidden * c["intermediate_size"]
    return c["num_hidden_layers"] * (attention + mlp) + c["vocab_size"] * hidden


def matmul_peak_gflops(m, k, n, repeats=10):
    """Best of several FP32 matmuls shaped like the MLP projections (as TrainingBenchmark.MatmulPeakGflops)."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    a.matmul(b)
    best = min(timed(lambda: a.matmul(b)) for _ in range(repeats))
    return 2.0 * m * k * n / best / 1e9


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="Hugging Face config.json (or a model folder holding one)")
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--alpha", type=float, default=None, help="LoRA alpha (default 2·rank, as ft bench-train)")
    p.add_argument("--steps", type=int, default=5, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps after the warm-up and memory steps")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = leave torch's default)")
    p.add_argument("--gradient-checkpointing", action="store_true")
    a = p.parse_args()

    path = os.path.join(a.config, "config.json") if os.path.isdir(a.config) else a.config
    with open(path) as f:
        c = json.load(f)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    alpha = a.alpha if a.alpha is not None else 2.0 * a.rank
    model = CausalLM(c, a.rank, alpha, a.gradient_checkpointing)
    model.train()
    lora = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(lora, lr=1e-4, weight_decay=0.0)
    peak = matmul_peak_gflops(a.batch * a.seq, c["hidden_size"], c["intermediate_size"])
    generator = torch.Generator().manual_seed(1)

    def step():
        ids = torch.randint(0, c["vocab_size"], (a.batch, a.seq), generator=generator)
        loss = model.loss(ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    libc = Libc()
    step()                                                        # warm-up
    measure = libc.separate_large()
    before = reset_peak()
    step()                                                        # the step whose memory is measured
    step_peak = max(rss_kib("VmHWM"), before) - before
    libc.restore()
    for _ in range(a.warmup):
        step()
    cpu0, times = time.process_time(), []
    for _ in range(a.steps):
        times.append(timed(step))
    cpu = (time.process_time() - cpu0) / a.steps

    n_lora = sum(q.numel() for q in lora)
    frozen = frozen_matmul_params(c)
    flops_per_token = 4.0 * frozen + 6.0 * n_lora + 6.0 * c["num_hidden_layers"] * a.seq * c["hidden_size"]
    per_step = sum(times) / len(times)
    tokens_per_second = a.batch * a.seq / per_step
    achieved = tokens_per_second * flops_per_token / 1e9
    mib = 1024.0
    print(json.dumps({
        "engine": f"pytorch-eager {torch.__version__}", "config": path, "layers": c["num_hidden_layers"], "hidden": c["hidden_size"],
        "seq_len": a.seq, "batch_rows": a.batch, "rank": a.rank, "threads": torch.get_num_threads(),
        "gradient_checkpointing": a.gradient_checkpointing, "frozen_matmul_params": frozen, "lora_params": n_lora,
        "flops_per_token": flops_per_token, "tokens_per_second": tokens_per_second, "seconds_per_step": per_step,
        "cpu_seconds_per_step": cpu, "achieved_gflops": achieved, "peak_gflops": peak, "mfu": achieved / peak,
        "rss_before_step_mib": before / mib if measure else None, "step_peak_mib": step_peak / mib if measure else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mib,
    }))


if __name__ == "__main__":
    main()
