"""Several queries, one pass: a three-stem split against a one-query render of the same clip.

`python -m bench.split_render [--package DIR ...] [--minutes 2] [--precision fp32] [--repeats 2]`

The input is the example clip looped to `--minutes` (48 kHz stereo). For each package, one
engine (loaded once, queries encoded before timing, no render cache) renders, in turn and
`--repeats` times, interleaved so the machine's noise falls on all alike:

- `one query`: target and residual of "a man speaking";
- `split 3`: `--split` of speech / birds / traffic with the partition (stems + rest);
- `overlapping 3`: the same three queries as independent targets;
- `changed query`: a one-query render under another query of the clip an engine with an
  encoded-window cache (the panel's) has rendered before: the decoder alone.

A split encodes each batch of windows once and decodes it per query, so its cost over one
query is two more decoder runs (and the partition's FFTs); the issue's goal is a three-query
render within 1.5x of a one-query one. The ratio is of the median times. Prints a table and
writes JSON (default `bench/results/split_render.json`).
"""

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.long_render import write_long_input
from bench.workers import ROOT, write_report

QUERIES = {"speech": "a man speaking", "birds": "birds chirping", "traffic": "traffic noise"}
CHANGED = "changed query"  # a one-query render of a clip the engine has encoded before
CHANGED_CACHE_MB = 2048


def _presets() -> dict[str, Any]:
    from clapsep.host.presets import Preset, SplitStem

    split = tuple(SplitStem(name=n, positive_text=q) for n, q in QUERIES.items())
    return {
        "one query": (Preset(name="speech", positive_text=QUERIES["speech"]), False),
        "split 3": (Preset(name="split", split=split), False),
        "overlapping 3": (Preset(name="split", split=split), True),
    }


def measure(package: Path, source: Path, precision: str, repeats: int) -> dict[str, Any]:
    from clapsep.host.cli.options import engine_loader
    from clapsep.host.engine import RenderInput
    from clapsep.host.presets import Preset

    engine = engine_loader(str(package), "cpu", cache=False, precision=precision)()
    requests = {
        kind: engine.prepare(preset, overwrite=True, overlapping=overlapping or None)
        for kind, (preset, overlapping) in _presets().items()
    }
    # The panel's engine keeps encoded windows: after one render of the clip, each render
    # under another query (alternating, so no result is reused) runs the decoder alone.
    kept = engine_loader(
        str(package), "cpu", cache=False, precision=precision, encoded_cache_mb=CHANGED_CACHE_MB
    )()
    changed = [
        kept.prepare(Preset(name=name, positive_text=text), overwrite=True)
        for name, text in QUERIES.items()
    ]
    times: dict[str, list[float]] = {kind: [] for kind in (*requests, CHANGED)}
    with tempfile.TemporaryDirectory() as out:
        kept.render_many(changed[0], [RenderInput(source, Path(out) / CHANGED)])
        for repeat in range(repeats):
            for kind, request in requests.items():
                started = time.perf_counter()
                engine.render_many(request, [RenderInput(source, Path(out) / kind)])
                times[kind].append(time.perf_counter() - started)
            started = time.perf_counter()
            request = changed[1 + repeat % (len(changed) - 1)]
            kept.render_many(request, [RenderInput(source, Path(out) / CHANGED)])
            times[CHANGED].append(time.perf_counter() - started)
    assert kept.encoded is not None and kept.encoded.hits > 0, "the clip did not stay encoded"
    base = statistics.median(times["one query"])
    return {
        "package": engine.package.name,
        "format": engine.package.manifest.get("format"),
        "provider": engine.provider,
        "precision": engine.separator.precision,
        "seconds": times,
        "ratio_to_one_query": {k: statistics.median(v) / base for k, v in times.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.split_render", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--package", nargs="+", required=True, help="model package folders")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--work", default=str(Path.home() / ".cache" / "clapsep-bench" / "long"), help="inputs"
    )
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "split_render.json"))
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    source = write_long_input(work / f"input-{args.minutes:g}min.wav", args.minutes)
    audio = args.minutes * 60
    rows = [measure(Path(p), source, args.precision, args.repeats) for p in args.package]
    print(f"{args.minutes:g} min stereo 48 kHz, {platform.processor() or platform.machine()}")
    print(f"{'package':<28} {'render':<14} {'median s':>9} {'RTF':>7} {'x one':>6}")
    for row in rows:
        for kind, seconds in row["seconds"].items():
            median = statistics.median(seconds)
            print(
                f"{row['package'] + ' ' + row['precision']:<28} {kind:<14} {median:9.1f} "
                f"{median / audio:7.4f} {row['ratio_to_one_query'][kind]:6.2f}"
            )
    write_report(args.json, {"minutes": args.minutes, "repeats": args.repeats, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
