#!/usr/bin/env python3
"""Checks offshift-bench against what cuBLAS and cudaMemcpy reach on the same card (through PyTorch).

For a GPU machine with the NVIDIA driver and PyTorch (Node and Docker are not needed):

    python3 resources/bench/compare.py --program dist/bench/offshift-bench [--device 0] [--out DIR]

It runs, on one GPU, in this order:
  1. offshift-bench (full run: 5 timed runs a figure), while sampling the SM clock with nvidia-smi;
  2. offshift-bench five times more (--quick), for the run-to-run spread over 5 runs;
  3. PyTorch: FP16 and BF16 matrix products (cuBLAS), FP32 matrix product, a device copy
     (torch.Tensor.copy_, bytes read + written) and pinned host<->device copies.
Then it checks the issue's targets and prints one JSON document (also written to --out):
  - memory bandwidth and host<->device transfer within 10% of PyTorch's,
  - FP32 within 10% of the card's FMA peak at the SM clock measured during the run,
  - tensor-core throughput at least half of cuBLAS,
  - run-to-run spread under 3% over 5 runs (median of each run, (max - min) / median).
The program's own outputs are saved beside it (<card>.recorded.json) to become unit-test
fixtures (test/fixtures/bench), and can be fed through `offshift bench run --from FILE`.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time


def run_program(program, device, quick):
    args = [program] + (["--quick"] if quick else [])
    env = dict(os.environ, CUDA_VISIBLE_DEVICES=str(device), CUDA_DEVICE_ORDER="PCI_BUS_ID")
    started = time.time()
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    elapsed = time.time() - started
    if out.returncode != 0:
        sys.exit(f"offshift-bench exited with {out.returncode}: {out.stderr.strip()}\n{out.stdout}")
    doc = json.loads(out.stdout)
    if doc.get("error"):
        sys.exit(f"offshift-bench: {doc['error']}")
    return doc, out.stdout, elapsed


class ClockSampler:
    """nvidia-smi --query-gpu every 100 ms while the program runs: SM clock, power, temperature."""

    def __init__(self, device):
        self.device = device
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            try:
                line = subprocess.run(
                    ["nvidia-smi", "-i", str(self.device), "--query-gpu=clocks.sm,power.draw,temperature.gpu,utilization.gpu", "--format=csv,noheader,nounits"],
                    capture_output=True, text=True, timeout=5,
                ).stdout.strip()
                sm, power, temp, util = [x.strip() for x in line.split(",")]
                self.samples.append({"t": time.time(), "smClockMHz": float(sm), "powerW": float(power), "temperatureC": float(temp), "utilPct": float(util)})
            except Exception:  # a missing field or a slow nvidia-smi: skip the sample
                pass
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def fp32_lanes_per_sm(major, minor):
    if major == 6 and minor == 0:
        return 64
    if major == 7 or (major == 8 and minor == 0):
        return 64
    return 128


def torch_figures(torch, device):
    dev = torch.device(f"cuda:{device}")
    torch.cuda.set_device(dev)

    def timed(fn, reps, warmup=3):
        for _ in range(warmup):
            fn()
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        runs = []
        for _ in range(5):
            start.record()
            for _ in range(reps):
                fn()
            end.record()
            end.synchronize()
            runs.append(start.elapsed_time(end) / 1e3 / reps)
        return statistics.median(runs)

    out = {}
    n = 8192
    for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16), ("fp32", torch.float32)):
        torch.backends.cuda.matmul.allow_tf32 = False
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        c = torch.empty(n, n, device=dev, dtype=dtype)
        s = timed(lambda: torch.matmul(a, b, out=c), 10 if dtype != torch.float32 else 3)
        out[f"cublas_{name}_tflops"] = 2 * n**3 / s / 1e12
        del a, b, c
    size = 1 << 30
    x = torch.empty(size // 4, device=dev, dtype=torch.float32).uniform_()
    y = torch.empty_like(x)
    s = timed(lambda: y.copy_(x), 20)
    out["torch_copy_GBps"] = 2 * size / s / 1e9  # bytes read + written, like offshift-bench
    del x, y
    size = 256 << 20
    host = torch.empty(size, dtype=torch.uint8).pin_memory()
    gpu = torch.empty(size, dtype=torch.uint8, device=dev)
    out["memcpy_h2d_GBps"] = size / timed(lambda: gpu.copy_(host, non_blocking=True), 10) / 1e9
    out["memcpy_d2h_GBps"] = size / timed(lambda: host.copy_(gpu, non_blocking=True), 10) / 1e9
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--program", default="dist/bench/offshift-bench")
    parser.add_argument("--device", type=int, default=0, help="nvidia-smi index (PCI bus order)")
    parser.add_argument("--out", default=".", help="folder for the recorded outputs and the comparison")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed: pip install torch (with CUDA), then run again.")
    if not torch.cuda.is_available():
        sys.exit("PyTorch sees no CUDA GPU: check nvidia-smi and the PyTorch build.")
    os.makedirs(args.out, exist_ok=True)

    with ClockSampler(args.device) as sampler:
        full, full_text, full_elapsed = run_program(args.program, args.device, quick=False)
    quick_runs = []
    for _ in range(5):
        doc, text, elapsed = run_program(args.program, args.device, quick=True)
        quick_runs.append((doc, text, elapsed))

    g = full["gpus"][0]
    if g.get("error"):
        sys.exit(f"offshift-bench failed on the GPU: {g['error']}")
    card = re.sub(r"[^a-z0-9]+", "-", g["name"].lower()).strip("-")
    driver = subprocess.run(["nvidia-smi", "-i", str(args.device), "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(args.out, f"{card}_driver{driver}_full.recorded.json"), "w") as f:
        f.write(full_text)
    with open(os.path.join(args.out, f"{card}_driver{driver}_quick.recorded.json"), "w") as f:
        f.write(quick_runs[0][1])

    torch_out = torch_figures(torch, args.device)
    props = torch.cuda.get_device_properties(args.device)
    busy = [s for s in sampler.samples if s["utilPct"] >= 50] or sampler.samples
    clock = statistics.median([s["smClockMHz"] for s in busy]) if busy else None
    fp32_peak = props.multi_processor_count * fp32_lanes_per_sm(props.major, props.minor) * 2 * clock * 1e6 / 1e12 if clock else None

    fig = lambda doc, name: (doc["gpus"][0]["figures"].get(name) or {}).get("median")
    checks = []

    def check(name, ours, ref, low, high=None, note=""):
        ratio = ours / ref if ours and ref else None
        ok = ratio is not None and ratio >= low and (high is None or ratio <= high)
        checks.append({"check": name, "offshift": ours, "reference": ref, "ratio": ratio, "target": f">= {low}" + (f" and <= {high}" if high else ""), "pass": ok, "note": note})

    check("memory bandwidth vs torch copy_", fig(full, "memoryBandwidth"), torch_out["torch_copy_GBps"], 0.9, 1.1)
    check("host->device vs pinned memcpy", fig(full, "hostToDevice"), torch_out["memcpy_h2d_GBps"], 0.9, 1.1)
    check("device->host vs pinned memcpy", fig(full, "deviceToHost"), torch_out["memcpy_d2h_GBps"], 0.9, 1.1)
    check("FP32 vs FMA peak at the measured SM clock", fig(full, "fp32"), fp32_peak, 0.9, 1.02, f"SM clock {clock} MHz (median of {len(busy)} busy samples)")
    check("FP16 tensor vs cuBLAS", fig(full, "fp16"), torch_out["cublas_fp16_tflops"], 0.5)
    check("BF16 tensor vs cuBLAS", fig(full, "bf16"), torch_out["cublas_bf16_tflops"], 0.5)
    spreads = {}
    for name in ("fp32", "fp16", "bf16", "memoryBandwidth", "hostToDevice", "deviceToHost"):
        medians = [fig(q[0], name) for q in quick_runs]
        medians = [m for m in medians if m]
        if len(medians) == 5:
            spreads[name] = (max(medians) - min(medians)) / statistics.median(medians)
            checks.append({"check": f"run-to-run spread of {name} over 5 quick runs", "offshift": spreads[name], "reference": 0.03, "target": "< 0.03", "pass": spreads[name] < 0.03})

    report = {
        "card": g["name"],
        "driver": driver,
        "cudaDriver": full.get("cudaDriver"),
        "torch": torch.__version__,
        "fullRunSeconds": round(full_elapsed, 1),
        "quickRunSeconds": [round(q[2], 1) for q in quick_runs],
        "smClockMHzDuringRun": clock,
        "telemetry": {"maxTemperatureC": max((s["temperatureC"] for s in sampler.samples), default=None), "maxPowerW": max((s["powerW"] for s in sampler.samples), default=None)},
        "reference": torch_out,
        "checks": checks,
        "allPass": all(c["pass"] for c in checks),
    }
    with open(os.path.join(args.out, f"{card}_driver{driver}_compare.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    return 0 if report["allPass"] else 1


if __name__ == "__main__":
    sys.exit(main())
