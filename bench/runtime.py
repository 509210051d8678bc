"""Real-time factor of torch eager vs onnxruntime (CPU) on 60 s of audio, both configurations.

`python -m bench.runtime [--configs official mini] [--levels all extended basic disable]`
exports untrained packages once (cached in `--packages`), then measures every engine in
a fresh subprocess, so model-load time and peak RSS belong to that engine alone (the
onnxruntime worker never imports torch, as in the deployed host). Windows are full
10.23 s windows at 32 kHz, batch 1, after one warm-up window; RTF = compute time / 60 s.
Prints a table and writes JSON.
"""

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import report_from_worker, run_worker, write_report

AUDIO_SECONDS = 60.0
RATE = 32000
WINDOW = 327679


def _windows() -> np.ndarray:
    """The 60 s realistic test signal cut into full windows (the last one zero-padded)."""
    from clapsep.signals import realistic_signal

    count = math.ceil(AUDIO_SECONDS * RATE / WINDOW)
    audio = realistic_signal(AUDIO_SECONDS, RATE)
    padded = np.zeros(count * WINDOW, np.float32)
    padded[: audio.size] = audio
    return padded.reshape(count, WINDOW)


def _condition() -> np.ndarray:
    condition = np.random.default_rng(0).standard_normal((1, 1024)).astype(np.float32)
    return condition / np.linalg.norm(condition)


def _time_windows(run, windows: np.ndarray) -> float:
    run(windows[:1])  # warm-up: lazy allocations, first-run kernel choices
    started = time.perf_counter()
    for i in range(len(windows)):
        run(windows[i : i + 1])
    return time.perf_counter() - started


def _worker_torch(config: str, threads: int) -> dict[str, Any]:
    import torch

    from clapsep.export.package import load_source

    torch.set_num_threads(threads)
    started = time.perf_counter()
    model = load_source(config).model
    load_s = time.perf_counter() - started
    cond = torch.from_numpy(_condition())
    windows = _windows()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(x), cond).numpy()

    return {"load_s": load_s, "compute_s": _time_windows(run, windows)}


def _worker_ort(package: str, level: str, threads: int) -> dict[str, Any]:
    from clapsep.host.runtime import Separator, load_package

    windows = _windows()
    started = time.perf_counter()
    separator = Separator(
        load_package(Path(package)), device="cpu", threads=threads, optimization=level
    )
    load_s = time.perf_counter() - started
    cond = _condition()
    return {
        "load_s": load_s,
        "compute_s": _time_windows(lambda x: separator.separate(x, cond), windows),
        "provider": separator.provider,
    }


def _row(config: str, engine: str, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "config": config,
        "engine": engine,
        "load_s": round(result["load_s"], 2),
        "compute_s": round(result["compute_s"], 2),
        "rtf": round(result["compute_s"] / AUDIO_SECONDS, 4),
        "peak_rss_mb": round(result["peak_rss_mb"]),
        "provider": result.get("provider", "torch"),
        "torch_imported": result["torch_imported"],
    }


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'config':<9} {'engine':<16} {'load s':>7} {'60 s in':>8} {'RTF':>7} {'vs torch':>9} "
        f"{'peak RSS MB':>12}"
    )
    lines = [head, "-" * len(head)]
    eager = {r["config"]: r["compute_s"] for r in rows if r["engine"] == "torch-eager"}
    for r in rows:
        speedup = eager.get(r["config"], math.nan) / r["compute_s"]
        lines.append(
            f"{r['config']:<9} {r['engine']:<16} {r['load_s']:>7.2f} {r['compute_s']:>7.2f}s "
            f"{r['rtf']:>7.4f} {speedup:>8.2f}x {r['peak_rss_mb']:>12}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.runtime", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--configs", nargs="+", default=["mini", "official"], choices=["mini", "official"]
    )
    parser.add_argument(
        "--levels",
        nargs="+",
        default=["all", "extended", "basic", "disable"],
        help="onnxruntime graph optimisation levels to compare",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: usable cores)"
    )
    parser.add_argument(
        "--packages",
        default=str(Path.home() / ".cache" / "clapsep-bench"),
        help="where untrained packages are exported once and reused",
    )
    parser.add_argument(
        "--json",
        default=str(Path(__file__).parent / "results" / "runtime.json"),
        help="JSON results file",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from clapsep.host.runtime.sessions import usable_cores

    threads = args.threads or usable_cores()
    if args.worker:
        kind, *rest = args.worker
        result = (
            _worker_torch(rest[0], threads)
            if kind == "torch"
            else _worker_ort(rest[0], rest[1], threads)
        )
        report_from_worker(result)
        return 0
    from clapsep.export.package import ensure_untrained_package

    rows = []
    for config in args.configs:
        package = Path(args.packages) / config
        started = time.perf_counter()
        ensure_untrained_package(config, package)
        print(
            f"{config}: package ready in {time.perf_counter() - started:.0f} s ({package})",
            flush=True,
        )
        rows.append(_row(config, "torch-eager", run_worker("bench.runtime", ["torch", config])))
        for level in args.levels:
            rows.append(
                _row(
                    config,
                    f"ort-cpu-{level}",
                    run_worker("bench.runtime", ["ort", str(package), level]),
                )
            )
    print(_table(rows))
    report = {
        "audio_seconds": AUDIO_SECONDS,
        "window_samples": WINDOW,
        "threads": threads,
        "machine": {
            "cpu_cores": os.cpu_count(),
            "usable_cores": usable_cores(),
            "platform": platform.platform(),
            "processor": platform.processor(),
        },
        "note": "untrained weights: speed and memory only",
        "rows": rows,
    }
    write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
