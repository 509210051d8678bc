"""`clapsep batch` on local threads vs on Ray actors, on the same cores: Ray's overhead.

`python -m bench.ray_batch [--files 40] [--seconds 30] [--package DIR] [--repeats 1]`

The inputs are the example clip (`examples/street/mixture.wav`, 48 kHz stereo) looped to
`--seconds`, each file starting at another offset, written once. Each run is the real
command in a fresh process, timed from outside (model loads, Ray's start-up and shutdown
included), with an empty output folder, an empty data folder and `--no-cache`:

- `local --jobs N`: threads sharing one engine, N = the cores this process may use;
- `ray`: `--ray` without an address, a local Ray instance sized to the same cores, so N
  one-CPU actors, each with its own engine.

The goal of issue 13 is Ray's wall time at most 15 % above the local one's. Prints a table
and writes JSON (default `bench/results/ray_batch.json`).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import ROOT, write_report

EXAMPLE = ROOT / "examples" / "street" / "mixture.wav"
QUERY = "a man speaking"
GOAL = 0.15


def write_inputs(folder: Path, files: int, seconds: float) -> list[Path]:
    """`files` clips of `seconds`, the example looped from a different offset in each."""
    from pedalboard.io import AudioFile

    from clapsep.files import replacing

    with AudioFile(str(EXAMPLE)) as f:
        clip, rate = f.read(f.frames), int(f.samplerate)
    frames = int(seconds * rate)
    paths = []
    for i in range(files):
        path = folder / f"clip{i:03d}.wav"
        paths.append(path)
        if path.is_file():
            continue
        start = (i * rate // 3) % clip.shape[1]
        reps = -(-(frames + start) // clip.shape[1])
        audio = np.tile(clip, (1, reps))[:, start : start + frames]
        with (
            replacing(path) as partial,
            AudioFile(str(partial), "w", rate, clip.shape[0], bit_depth=24) as out,
        ):
            out.write(audio)
    return paths


def run_batch(inputs: Path, package: Path, extra: list[str], work: Path) -> dict[str, Any]:
    """One `clapsep batch` in its own process: wall seconds and the summary's figures."""
    out = Path(tempfile.mkdtemp(prefix="out-", dir=work))
    data = Path(tempfile.mkdtemp(prefix="data-", dir=work))
    argv = [
        sys.executable, "-m", "clapsep.host", "batch", str(inputs), "--query", QUERY,
        "--out", str(out), "--model", str(package), "--device", "cpu", "--no-cache", "--json",
        *extra,
    ]  # fmt: skip
    env = {**os.environ, "CLAPSEP_DATA_DIR": str(data), "RAY_USAGE_STATS_ENABLED": "0"}
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(extra)} failed: {done.stderr.strip().splitlines()[-3:]}")
    summary = json.loads(done.stdout)
    seconds = [f["seconds"] for f in summary["files"]]
    return {
        "wall_s": round(wall, 1),
        "rendered": summary["counts"]["rendered"],
        "mean_file_s": round(float(np.mean(seconds)), 2),
        "actors": len(summary.get("cluster", {}).get("actors", [])) or None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ray_batch", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--package", default="", help="model package (default: the bundled one)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating")
    parser.add_argument(
        "--address", default="", help="a running cluster's address instead of a local instance"
    )
    parser.add_argument(
        "--work", default=str(Path.home() / ".cache" / "clapsep-bench" / "ray_batch")
    )
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "ray_batch.json"))
    args = parser.parse_args(argv)
    from clapsep.host.runtime.sessions import usable_cores
    from clapsep.paths import bundled_model_dir

    package = Path(args.package) if args.package else bundled_model_dir()
    work = Path(args.work)
    inputs = work / f"inputs-{args.files}x{args.seconds:g}s"
    inputs.mkdir(parents=True, exist_ok=True)
    write_inputs(inputs, args.files, args.seconds)
    cores = usable_cores()
    engines = [
        (f"local --jobs {cores}", ["--jobs", str(cores)]),
        (
            f"ray {args.address or '(local instance)'}",
            ["--ray", args.address] if args.address else ["--ray"],
        ),
    ]
    rows = []
    for repeat in range(args.repeats):
        for name, extra in engines if repeat % 2 == 0 else engines[::-1]:
            row = {"engine": name, "repeat": repeat, **run_batch(inputs, package, extra, work)}
            row["rtf"] = round(row["wall_s"] / (args.files * args.seconds), 4)
            rows.append(row)
            print(row, flush=True)
    best = {name: min(r["wall_s"] for r in rows if r["engine"] == name) for name, _ in engines}
    overhead = best[engines[1][0]] / best[engines[0][0]] - 1
    report = {
        "package": str(package),
        "input": f"{args.files} files of {args.seconds:g} s, {EXAMPLE.name} looped, 48 kHz stereo",
        "query": QUERY,
        "rows": rows,
        "ray_overhead": round(overhead, 3),
        "goal": GOAL,
        "machine": {"cpu_cores": cores, "platform": platform.platform()},
    }
    head = f"{'engine':<22} {'run':>3} {'wall s':>7} {'RTF':>7} {'mean file s':>11} {'actors':>6}"
    print(head + "\n" + "-" * len(head))
    for r in rows:
        print(
            f"{r['engine']:<22} {r['repeat']:>3} {r['wall_s']:>7} {r['rtf']:>7} "
            f"{r['mean_file_s']:>11} {r['actors'] or '':>6}"
        )
    verdict = "met" if overhead <= GOAL else "missed"
    print(f"Ray overhead (best wall times): {100 * overhead:+.1f} % (goal: +15 %, {verdict})")
    write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
