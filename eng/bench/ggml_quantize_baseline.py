"""llama.cpp's own quantizer on the export benchmark's tensors: the baseline for `ft export`'s GGUF speed.

Takes the F16 checkpoint the export benchmark converts and the GGUF file `ft export` wrote from it, and redoes the
tensor work with ggml's C functions from the libggml-base.so that node-llama-cpp ships (eng/node): for every tensor,
in the GGUF's order and with the type `ft export` chose for it, F16 -> F32 (ggml_fp16_to_fp32_row) and
ggml_quantize_chunk, each split over the machine's cores by rows, as llama-quantize does, then the bytes appended to
an output file, fsync'ed at the end. Prints one JSON object: the seconds, MB/s of input weights, and whether every
tensor's bytes equal those in `ft export`'s file (checked after the clock stops).

Written by hand: llama-quantize itself is not in node-llama-cpp's binaries, and its GGUF reading is not what is
measured. Qwen2/Llama tensor names without the q/k row permutation only (the 0.5B benchmark model is Qwen2-shaped).
Python standard library + ctypes.
"""
import argparse
import ctypes
import json
import mmap
import os
import struct
import threading
import time

GGML_TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 6: ("Q5_0", 32, 22), 8: ("Q8_0", 32, 34), 12: ("Q4_K", 256, 144),
              14: ("Q6_K", 256, 210), 2: ("Q4_0", 32, 18), 30: ("BF16", 1, 2)}

HF_NAMES = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
            "output.weight": "lm_head.weight"}
BLOCK_NAMES = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
               "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
               "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}


def hf_name(gguf_name):
    if gguf_name in HF_NAMES:
        return HF_NAMES[gguf_name]
    _, layer, part, kind = gguf_name.split(".")
    return f"model.layers.{layer}.{BLOCK_NAMES[part]}.{kind}"


def read_gguf_tensors(path):
    """(name, ne, type, absolute offset) of every tensor in a GGUF v3 file, in file order."""
    with open(path, "rb") as f:
        data = f.read(64 << 20)
    pos = 0

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            inner, count = take("I"), take("Q")
            return [value(inner) for _ in range(count)]
        return take(scalar[kind])

    assert data[:4] == b"GGUF", f"{path}: not a GGUF file"
    pos = 4
    _, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    alignment = 32
    for _ in range(n_kv):
        key, kind = string(), take("I")
        v = value(kind)
        if key == "general.alignment":
            alignment = v
    infos = []
    for _ in range(n_tensors):
        name, dims = string(), take("I")
        ne = [take("Q") for _ in range(dims)]
        infos.append((name, ne, take("I"), take("Q")))
    start = (pos + alignment - 1) // alignment * alignment
    return [(name, ne, kind, start + offset) for name, ne, kind, offset in infos]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


def split_rows(rows, workers):
    per = (rows + workers - 1) // workers
    return [(w * per, min(rows, (w + 1) * per)) for w in range(workers) if w * per < rows]


def run_parallel(jobs):
    threads = [threading.Thread(target=job) for job in jobs]   # ctypes calls release the GIL
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def bind(folder):
    """ggml_quantize_chunk, ggml_fp16_to_fp32_row and ggml_quantize_init from node-llama-cpp's libggml-base.so."""
    ggml = ctypes.CDLL(os.path.join(folder, "libggml-base.so"))
    ggml.ggml_quantize_chunk.restype = ctypes.c_size_t
    ggml.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                         ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    ggml.ggml_fp16_to_fp32_row.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    ggml.ggml_quantize_init.argtypes = [ctypes.c_int]
    return ggml


def quantize_tensor(ggml, src, ne, kind, threads):
    """One F16 tensor at address src as GGML type kind: widened to F32, then quantized, each split by rows over threads."""
    _, block, block_bytes = GGML_TYPES[kind]
    count, per_row = 1, ne[0]
    for d in ne:
        count *= d
    parts = split_rows(count // per_row, threads)
    f32 = (ctypes.c_float * count)()
    run_parallel([lambda a=a, b=b: ggml.ggml_fp16_to_fp32_row(src + a * per_row * 2, ctypes.addressof(f32) + a * per_row * 4,
                                                              (b - a) * per_row) for a, b in parts])
    if kind == 0:
        return f32, count * 2
    ggml.ggml_quantize_init(kind)
    quantized = (ctypes.c_char * (count // block * block_bytes))()
    run_parallel([lambda a=a, b=b: ggml.ggml_quantize_chunk(kind, ctypes.addressof(f32), ctypes.addressof(quantized),
                                                            a * per_row, b - a, per_row, None) for a, b in parts])
    return quantized, count * 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint", help="folder with the F16 model.safetensors")
    parser.add_argument("gguf", help="the GGUF file ft export wrote from it")
    parser.add_argument("--lib", required=True, help="folder with node-llama-cpp's libggml-base.so")
    parser.add_argument("--out", required=True, help="file to write the quantized bytes to")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    ggml = bind(args.lib)
    tensors = read_gguf_tensors(args.gguf)
    header, data_start = read_safetensors(os.path.join(args.checkpoint, "model.safetensors"))
    with open(os.path.join(args.checkpoint, "model.safetensors"), "rb") as source_file:
        # A private copy-on-write map, so that ctypes can take its address; nothing is written to it.
        source = mmap.mmap(source_file.fileno(), 0, access=mmap.ACCESS_COPY)
    source_base = ctypes.addressof(ctypes.c_char.from_buffer(source))

    lengths, input_bytes = [], 0
    out = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    started = time.perf_counter()
    for name, ne, kind, _ in tensors:
        info = header[hf_name(name)]
        assert info["dtype"] == "F16", f"{name}: {info['dtype']} (the baseline reads F16 checkpoints)"
        data, read = quantize_tensor(ggml, source_base + data_start + info["data_offsets"][0], ne, kind, args.threads)
        os.write(out, memoryview(data).cast("B"))
        lengths.append(ctypes.sizeof(data))
        input_bytes += read
    os.fsync(out)
    seconds = time.perf_counter() - started
    os.close(out)

    print(json.dumps({"seconds": round(seconds, 3), "inputMegabytesPerSecond": round(input_bytes / 1e6 / seconds, 1),
                      "inputBytes": input_bytes, "threads": args.threads, "tensors": len(tensors),
                      "bytesEqualToFtExport": compare(args.out, args.gguf, tensors, lengths)}))


def compare(ours_path, gguf_path, tensors, lengths):
    """Whether every tensor's bytes written here equal those of the same tensor in the GGUF file."""
    with open(ours_path, "rb") as mine, open(gguf_path, "rb") as theirs:
        for (name, _, _, offset), length in zip(tensors, lengths):
            theirs.seek(offset)
            if mine.read(length) != theirs.read(length):
                print(f"differs: {name}", flush=True)
                return False
    return True


if __name__ == "__main__":
    main()
