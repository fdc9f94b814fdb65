"""llama-quantize itself as the baseline for `ft export`: llama.cpp's llama_model_quantize, from the libllama that
node-llama-cpp ships, turns an unquantized GGUF written by `ft export` into the same file type, on all cores, with
llama.cpp's default parameters (no importance matrix). Prints one JSON object: the seconds, MB/s of the input
checkpoint's weights (given, so the figure is comparable with `ft export`'s), and whether every tensor of the result
has the type and bytes of the GGUF `ft export` wrote directly (checked after the clock stops).

Written by hand (ctypes): the llama-quantize program is not among node-llama-cpp's binaries, its library function is.
Python standard library only.
"""
import argparse
import ctypes
import json
import os
import time

from ggml_quantize_baseline import GGML_TYPES, read_gguf_tensors

FILE_TYPES = {"f16": 1, "q4_0": 2, "q8_0": 7, "q4_k_m": 15}


class Params(ctypes.Structure):
    """The leading fields of llama_model_quantize_params; the padding leaves room for the rest (kept at defaults)."""
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int32), ("rest", ctypes.c_byte * 248)]


def quantize(lib, source, target, file_type, threads):
    llama = ctypes.CDLL(next(os.path.join(lib, f) for f in sorted(os.listdir(lib))
                             if f.startswith("libllama") and not f.startswith("libllama-") and f.endswith(".so")))
    llama.llama_model_quantize_default_params.restype = Params
    llama.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    llama.llama_model_quantize.restype = ctypes.c_uint32
    llama.llama_backend_init()
    params = llama.llama_model_quantize_default_params()
    params.nthread, params.ftype = threads, FILE_TYPES[file_type]
    started = time.perf_counter()
    rc = llama.llama_model_quantize(source.encode(), target.encode(), ctypes.byref(params))
    with open(target, "rb+") as written:
        os.fsync(written.fileno())   # as ft export and dd do
    seconds = time.perf_counter() - started
    assert rc == 0, f"llama_model_quantize returned {rc}"
    return seconds


def same_tensors(a_path, b_path):
    """Whether every tensor of a has the type and bytes of the tensor of the same name in b."""
    b_tensors = {name: (kind, offset) for name, _, kind, offset in read_gguf_tensors(b_path)}
    with open(a_path, "rb") as a, open(b_path, "rb") as b:
        for name, ne, kind, offset in read_gguf_tensors(a_path):
            if b_tensors.get(name, (None,))[0] != kind:
                return False
            _, block, block_bytes = GGML_TYPES[kind]
            count = 1
            for d in ne:
                count *= d
            a.seek(offset)
            b.seek(b_tensors[name][1])
            length = count // block * block_bytes
            if a.read(length) != b.read(length):
                return False
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source", help="unquantized GGUF (ft export --type f16)")
    parser.add_argument("ours", help="the GGUF ft export wrote directly in the file type asked")
    parser.add_argument("--type", required=True, choices=sorted(FILE_TYPES))
    parser.add_argument("--input-bytes", type=int, required=True, help="bytes of the checkpoint's weights, for MB/s")
    parser.add_argument("--lib", required=True, help="folder with node-llama-cpp's libllama")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    seconds = quantize(args.lib, args.source, args.out, args.type, args.threads)
    print(json.dumps({"seconds": round(seconds, 3), "inputMegabytesPerSecond": round(args.input_bytes / 1e6 / seconds, 1),
                      "threads": args.threads, "sameTensorsAsFtExport": same_tensors(args.ours, args.out)}))


if __name__ == "__main__":
    main()
