"""Seams and speed of the crossfade: 1 s against 2 s (the default) between 10 s windows.

`python -m bench.crossfade [--package DIR] [--loops 8] [--overlaps 1 2] [--repeats 3]
[--mixtures LIST --audio-root CORPUS --items 12]`

The example clip (8 s, 48 kHz stereo, built from held-out recordings, with its reference
stems) is looped `--loops` times, so the render crosses several window seams. For each
crossfade length one engine renders "a man speaking" with the negative "road traffic and
birds chirping" (`.ci/demo`'s query), `--repeats` times, interleaved. Scored against the
looped speech reference:

- `SDR` over the whole clip;
- `SDR in fades` over the samples where two windows are crossfaded (the seams), and
  `SDR elsewhere`: a seam that costs quality shows as fades below elsewhere;
- the median render time.

With `--mixtures` the input is instead the first `--items` mixtures of a held-out speech
list played one after another (10 s each, 32 kHz mono) under the Dialogue preset's query.

Prints a table and writes JSON (default `bench/results/crossfade.json`).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import ROOT, write_report
from clapsep.model.evaluation.metrics import sdr

EXAMPLE = ROOT / "examples" / "street"
EXAMPLE_QUERY = ("a man speaking", "road traffic and birds chirping")  # .ci/demo's
LIST_QUERY = ("a person speaking", "background noise and room ambience")  # the Dialogue preset


def _read(path: Path) -> tuple[np.ndarray, int]:
    from pedalboard.io import AudioFile

    with AudioFile(str(path)) as f:
        return f.read(f.frames), int(f.samplerate)


def _write(path: Path, audio: np.ndarray, rate: int) -> Path:
    from pedalboard.io import AudioFile

    with AudioFile(str(path), "w", rate, audio.shape[0], bit_depth=32) as f:
        f.write(audio.astype(np.float32))
    return path


def fade_mask(frames: int, rate: int, window: int, overlap: int, model_rate: int) -> np.ndarray:
    """True on the source frames where two windows of the plan are crossfaded."""
    mask = np.zeros(frames, dtype=bool)
    hop = window - overlap
    start = hop - overlap  # window 1 starts at -overlap + hop: the first fade
    while start * rate / model_rate < frames:
        first = max(0, round(start * rate / model_rate))
        mask[first : round((start + overlap) * rate / model_rate)] = True
        start += hop
    return mask


def measure(
    package: str,
    source: Path,
    speech: np.ndarray,
    query: tuple[str, str],
    overlaps: list[float],
    repeats: int,
) -> tuple[Any, list[dict[str, Any]]]:
    from clapsep.host.cli.options import engine_loader
    from clapsep.host.engine import RenderInput
    from clapsep.host.presets import Preset

    engine = engine_loader(package, "cpu", cache=False)()
    preset = Preset(name="speech", positive_text=query[0], negative_text=query[1])
    requests = {o: engine.prepare(preset, overlap_seconds=o, overwrite=True) for o in overlaps}
    times: dict[float, list[float]] = {o: [] for o in overlaps}
    targets: dict[float, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            for overlap, request in requests.items():
                started = time.perf_counter()
                (done,) = engine.render_many(
                    request, [RenderInput(source, Path(out) / str(overlap))]
                )
                times[overlap].append(time.perf_counter() - started)
                targets[overlap] = _read(next(s.path for s in done.stems if s.stem == "target"))[0]
    rate = _read(source)[1]
    rows = []
    for overlap, request in requests.items():
        settings = request.settings
        mask = fade_mask(
            speech.shape[1], rate, settings.window, settings.overlap, settings.model_rate
        )
        estimate = targets[overlap]
        rows.append(
            {
                "overlap_s": overlap,
                "median_s": statistics.median(times[overlap]),
                "seconds": times[overlap],
                "sdr": sdr(estimate.reshape(-1), speech.reshape(-1)),
                "sdr_fades": sdr(estimate[:, mask].reshape(-1), speech[:, mask].reshape(-1)),
                "sdr_elsewhere": sdr(estimate[:, ~mask].reshape(-1), speech[:, ~mask].reshape(-1)),
                "fade_share": float(mask.mean()),
            }
        )
    return engine.package, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crossfade", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--package", default=str(ROOT / "models" / "clapsep-bundled"))
    parser.add_argument("--loops", type=int, default=8)
    parser.add_argument("--overlaps", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--mixtures",
        type=Path,
        help="a held-out speech list (`clapsep eval-list`): its first --items mixtures, one "
        "after another, instead of the looped example, under the Dialogue preset's query",
    )
    parser.add_argument("--audio-root", type=Path, help="the list's audio root")
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "crossfade.json"))
    args = parser.parse_args(argv)
    if args.mixtures is None:
        mixture, rate = _read(EXAMPLE / "mixture.wav")
        speech = np.tile(_read(EXAMPLE / "speech.wav")[0], args.loops)
        mixture = np.tile(mixture, args.loops)
        query, what = EXAMPLE_QUERY, "the example clip looped"
    else:
        from clapsep.model.evaluation.mixtures import read_mixture_csv, render

        items = read_mixture_csv(args.mixtures)[: args.items]
        pairs = [render(item, args.audio_root) for item in items]
        mixture = np.concatenate([m for m, _ in pairs])[None, :]
        speech = np.concatenate([t for _, t in pairs])[None, :]
        rate, query = 32000, LIST_QUERY
        what = f"{len(items)} mixtures of {args.mixtures.name} one after another"
    with tempfile.TemporaryDirectory() as work:
        source = _write(Path(work) / "long.wav", mixture, rate)
        package, rows = measure(args.package, source, speech, query, args.overlaps, args.repeats)
    seconds = speech.shape[1] / rate
    print(f"{package.name} {package.version}, {what}: {seconds:g} s")
    print(f"{'crossfade':>9} {'median s':>9} {'SDR':>6} {'in fades':>9} {'elsewhere':>10}")
    for row in rows:
        print(
            f"{row['overlap_s']:8g}s {row['median_s']:9.2f} {row['sdr']:6.2f} "
            f"{row['sdr_fades']:9.2f} {row['sdr_elsewhere']:10.2f}"
        )
    report: dict[str, Any] = {
        "package": package.name,
        "version": package.version,
        "input": what,
        "query": list(query),
        "seconds": seconds,
        "repeats": args.repeats,
        "rows": rows,
    }
    write_report(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
