#!/usr/bin/env bash
# The on-GPU proof of the benchmark in one prepared run, for a GPU machine that has the NVIDIA
# driver and PyTorch but no Node and no Docker (docs/benchmarks.md, "Proof"). From the repository
# root, with dist/bench/offshift-bench built here by `npm run build` and copied along, or from the
# root of the device kit (`npm run device-kit`), which holds both:
#   bash resources/bench/device-proof.sh [OUT_DIR]      (default: $OUT, else bench-out)
# It keeps everything it learns in OUT_DIR, even when a step fails: the driver's own description
# of the card (nvidia-smi -q -x, a fixture for the inventory tests), the program's recorded
# outputs and the comparison with cuBLAS / cudaMemcpy (resources/bench/compare.py).
set -uo pipefail
out="${1:-${OUT:-bench-out}}"
mkdir -p "$out"
program=dist/bench/offshift-bench
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed: is the NVIDIA driver loaded?" >&2
nvidia-smi -q -x > "$out/nvidia-smi-q-x.xml" 2>/dev/null || true
if [ ! -f "$program" ]; then
  echo "$program is missing: run npm run build where nvcc is, and bring the file along." >&2
  exit 2
fi
chmod +x "$program"
# The program alone first, with a time box, so a hang or a driver problem is on record by itself.
timeout 120 "$program" --quick > "$out/first-quick.json" 2> "$out/first-quick.stderr"
echo "offshift-bench --quick exited $?"
head -c 600 "$out/first-quick.json"; echo
timeout 500 python3 resources/bench/compare.py --program "$program" --device 0 --out "$out" > "$out/compare.stdout" 2> "$out/compare.stderr"
status=$?
echo "compare.py exited $status"
tail -c 6000 "$out/compare.stdout"
tail -c 2000 "$out/compare.stderr" >&2
exit $status
