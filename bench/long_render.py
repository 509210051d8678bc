"""Long-file rendering: RTF and peak RSS of the host at 10 and 60 minutes, and the demo's way.

`python -m bench.long_render [--config bundled|mini|official] [--minutes 10 60] [--weights DIR]`

The input is the example clip (`examples/street/mixture.wav`, 48 kHz stereo) looped to
each length and written once in blocks. Each engine runs in a fresh subprocess, so its
peak RSS (VmHWM) is its own:

- `host`: `host.engine.Engine.render_many`, as `clapsep render` runs it: streaming read,
  overlapping windows with crossfades, both stems written. Every host run starts cold
  (an empty data folder, so it loads the text graph to encode its query), so runs of
  different lengths differ only in length. Memory should not grow with the file's length
  (the issue asks for the longest run's peak within 15 % of the shortest one's).
- `demo`: the published demo's way, in torch: the whole file in memory, resampled to
  32 kHz, cut into non-overlapping 10 s chunks, each separated, concatenated and
  resampled back. It needs the torch model of the same weights (`--weights`, a model
  directory; untrained `mini`/`official` configurations build it themselves) and runs on
  the shortest length only (torch eager is slow on 2 cores).

The seam difference compares the two targets around the demo's chunk boundaries (+-25 ms)
with the rest of the file: how much of their disagreement the hard cuts add.
Prints a table and writes JSON (default `bench/results/long_render_<config>.json`).
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import ROOT, report_from_worker, run_worker, write_report

EXAMPLE = ROOT / "examples" / "street" / "mixture.wav"
QUERY = "a man speaking"
DEMO_CHUNK_SECONDS = 10.0
SEAM_SECONDS = 0.025


def write_long_input(path: Path, minutes: float) -> Path:
    """The example clip looped to `minutes`, written block by block (never whole in memory)."""
    from pedalboard.io import AudioFile

    from clapsep.files import replacing

    if path.is_file():
        return path
    with AudioFile(str(EXAMPLE)) as f:
        clip, rate = f.read(f.frames), int(f.samplerate)
    total = int(minutes * 60 * rate)
    with (
        replacing(path) as partial,
        AudioFile(
            str(partial), "w", samplerate=rate, num_channels=clip.shape[0], bit_depth=24
        ) as out,
    ):
        written = 0
        while written < total:
            block = clip[:, : total - written]
            out.write(block)
            written += block.shape[1]
    return path


def _worker_host(package: str, source: str, out: str, precision: str) -> dict[str, Any]:
    from clapsep.host.cli.options import engine_loader
    from clapsep.host.engine import RenderInput
    from clapsep.host.presets import Preset

    engine = engine_loader(package, "cpu", cache=False, precision=precision)()
    started = time.perf_counter()  # encoding the query is part of a cold run
    request = engine.prepare(Preset(name="speech", positive_text=QUERY), overwrite=True)
    (outcome,) = engine.render_many(request, [RenderInput(Path(source), Path(out))])
    return {
        "compute_s": time.perf_counter() - started,
        "provider": engine.provider,
        "target": str(next(s.path for s in outcome.stems if s.stem == "target")),
    }


def _resample_whole(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    from pedalboard.io import StreamResampler

    resampler = StreamResampler(source_rate, target_rate, audio.shape[0])
    return np.concatenate(
        [resampler.process(np.ascontiguousarray(audio, np.float32)), resampler.process()], axis=1
    )


def _worker_demo(config: str, weights: str, source: str, out: str) -> dict[str, Any]:
    import torch
    from pedalboard.io import AudioFile

    from clapsep.export.package import load_source
    from clapsep.model.condition import Query
    from clapsep.model.configs import SEPARATION_RATE

    torch.set_num_threads(os.cpu_count() or 1)
    model = load_source(config, Path(weights) if weights else None).model
    started = time.perf_counter()
    with AudioFile(source) as f:
        audio, rate = f.read(f.frames), int(f.samplerate)  # the whole file, as the demo does
    down = _resample_whole(audio, rate, SEPARATION_RATE)
    chunk = int(DEMO_CHUNK_SECONDS * SEPARATION_RATE)
    with torch.inference_mode():
        condition = model.condition(Query(text=QUERY), None)
        separated = np.zeros_like(down)
        for start in range(0, down.shape[1], chunk):
            piece = down[:, start : start + chunk]
            padded = np.pad(piece, ((0, 0), (0, chunk - piece.shape[1])))
            estimate = model(torch.from_numpy(padded), condition.repeat(len(padded), 1)).numpy()
            separated[:, start : start + piece.shape[1]] = estimate[:, : piece.shape[1]]
    target = _resample_whole(separated, SEPARATION_RATE, rate)[:, : audio.shape[1]]
    target = np.pad(target, ((0, 0), (0, audio.shape[1] - target.shape[1])))
    path = Path(out) / "demo_target.wav"
    with AudioFile(
        str(path), "w", samplerate=rate, num_channels=target.shape[0], bit_depth=32
    ) as f:
        f.write(target.astype(np.float32))
    return {
        "compute_s": time.perf_counter() - started,
        "provider": "torch-cpu",
        "target": str(path),
    }


def seam_difference(host_target: Path, demo_target: Path) -> dict[str, float]:
    """Host vs demo target: overall SNR, and the difference near the demo's cuts vs elsewhere."""
    from pedalboard.io import AudioFile

    with AudioFile(str(host_target)) as a, AudioFile(str(demo_target)) as b:
        x, y, rate = a.read(a.frames), b.read(b.frames), int(a.samplerate)
    diff = (x - y).astype(np.float64)
    near = np.zeros(x.shape[1], bool)
    half = int(SEAM_SECONDS * rate)
    for cut in np.arange(DEMO_CHUNK_SECONDS, x.shape[1] / rate, DEMO_CHUNK_SECONDS):
        at = round(cut * rate)
        near[max(0, at - half) : at + half] = True
    power = lambda v: float(np.mean(v**2)) + 1e-20  # noqa: E731
    result = {"host_vs_demo_snr_db": 10 * np.log10(power(x) / power(diff))}
    if near.any():  # files shorter than one demo chunk have no cut
        result["seam_excess_db"] = 10 * np.log10(power(diff[:, near]) / power(diff[:, ~near]))
    return result


def _package(config: str, packages: Path) -> Path:
    if config == "bundled":
        from clapsep.paths import bundled_model_dir

        return bundled_model_dir()
    from clapsep.export.package import ensure_untrained_package

    return ensure_untrained_package(config, packages / config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.long_render", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", default="bundled", choices=["bundled", "mini", "official"])
    parser.add_argument("--minutes", nargs="+", type=float, default=[10.0, 60.0])
    parser.add_argument(
        "--weights", default="", help="model directory of the package's weights (demo run)"
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the demo-style torch run")
    parser.add_argument(
        "--precision",
        nargs="+",
        default=["fp32"],
        help="host precisions to run side by side (fp32 bf16)",
    )
    parser.add_argument(
        "--work",
        default=str(Path.home() / ".cache" / "clapsep-bench" / "long"),
        help="where the long inputs and the stems go (GBs)",
    )
    parser.add_argument(
        "--json", default="", help="report path (default bench/results/long_render_<config>.json)"
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        result = _worker_host(*rest) if kind == "host" else _worker_demo(*rest)
        report_from_worker(result)
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    package = _package(args.config, work / "packages")
    rows = []
    for minutes in sorted(args.minutes):
        source = write_long_input(work / f"input-{minutes:g}min.wav", minutes)
        out = work / f"out-{args.config}-{minutes:g}min"
        out.mkdir(exist_ok=True)
        engines = []
        for precision in args.precision:
            (out / precision).mkdir(exist_ok=True)
            engines.append(
                (f"host {precision}", ["host", str(package), str(source), str(out / precision)])
            )
            engines[-1][1].append(precision)
        demo_ok = not args.no_demo and (args.weights or args.config != "bundled")
        if demo_ok and minutes == min(args.minutes):
            engines.append(
                (
                    "demo",
                    [
                        "demo",
                        "bundled" if args.config == "bundled" else args.config,
                        args.weights,
                        str(source),
                        str(out),
                    ],
                )
            )
        results, by_name = {}, {}
        for name, worker in engines:
            with tempfile.TemporaryDirectory(prefix="clapsep-bench-data-") as data:
                result = run_worker("bench.long_render", worker, env={"CLAPSEP_DATA_DIR": data})
            results[name] = result
            rows.append(
                {
                    "minutes": minutes,
                    "engine": name,
                    "compute_s": round(result["compute_s"], 1),
                    "rtf": round(result["compute_s"] / (minutes * 60), 4),
                    "peak_rss_mb": round(result["peak_rss_mb"]),
                    "provider": result["provider"],
                    "torch_imported": result["torch_imported"],
                }
            )
            by_name[name] = rows[-1]
            print(f"{minutes:g} min {name}: {rows[-1]}", flush=True)
        first = results[f"host {args.precision[0]}"]
        if "demo" in results:
            by_name["demo"].update(
                {
                    k: round(v, 2)
                    for k, v in seam_difference(
                        Path(first["target"]), Path(results["demo"]["target"])
                    ).items()
                }
            )
        for precision in args.precision[1:]:  # each other precision against the first
            other = Path(results[f"host {precision}"]["target"])
            snr = seam_difference(Path(first["target"]), other)["host_vs_demo_snr_db"]
            by_name[f"host {precision}"][f"snr_vs_{args.precision[0]}_db"] = round(snr, 2)
    host = f"host {args.precision[0]}"
    host_rss = [r["peak_rss_mb"] for r in rows if r["engine"] == host]  # shortest first
    report = {
        "config": args.config,
        "package": str(package),
        "input": f"{EXAMPLE.name} looped, 48 kHz stereo",
        "query": QUERY,
        "rows": rows,
        "note": "trained weights"
        if args.config == "bundled"
        else "untrained weights: speed and memory only",
        "host_rss_growth": round(host_rss[-1] / host_rss[0] - 1, 3) if len(host_rss) > 1 else None,
        "machine": {"cpu_cores": os.cpu_count(), "platform": platform.platform()},
    }
    head = f"{'min':>5} {'engine':<10} {'compute s':>10} {'RTF':>7} {'peak RSS MB':>12}  quality"
    print(head + "\n" + "-" * len(head))
    for r in rows:
        seams = (
            f"host vs demo {r['host_vs_demo_snr_db']} dB" if "host_vs_demo_snr_db" in r else ""
        ) + (f", cuts add {r['seam_excess_db']} dB" if "seam_excess_db" in r else "")
        seams += "".join(
            f"{k[:-3].replace('_', ' ')} {v} dB" for k, v in r.items() if "snr_vs" in k
        )
        print(
            f"{r['minutes']:>5g} {r['engine']:<10} {r['compute_s']:>10} {r['rtf']:>7} "
            f"{r['peak_rss_mb']:>12}  {seams}"
        )
    if report["host_rss_growth"] is not None:
        print(
            f"host peak RSS growth from {min(args.minutes):g} to {max(args.minutes):g} min: "
            f"{100 * report['host_rss_growth']:+.1f} % (goal: at most +5 %)"
        )
    write_report(
        args.json or str(ROOT / "bench" / "results" / f"long_render_{args.config}.json"), report
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
