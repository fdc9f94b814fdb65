"""One line of `ft bench-train --json` output, labelled: tokens/s, GFLOP/s of the matmul peak, MFU, CPU s/step, s/step.
Used by the pair scripts (omp-wait-pairs.sh, row-threads-pairs.sh). Usage: ft bench-train ... --json | python3 this LABEL"""
import json
import sys

d = json.loads(sys.stdin.read().strip().splitlines()[-1])
print(sys.argv[1], "%.0f tok/s, %.1f of %.1f GFLOP/s = MFU %.1f %%, %.3f CPU s/step, %.3f s/step" % (
    d["tokens_per_second"], d["achieved_gflops"], d["peak_gflops"], d["mfu"] * 100, d["cpu_seconds_per_step"],
    d["seconds_per_step"]))
