"""Score presets (factory ones and candidate variants) on a held-out mixture list, through
the product's `Engine`: texts, negatives and the attenuation limit as an editor renders them.

`python -m bench.preset_scores --package DIR --mixtures LIST.csv --audio-root CORPUS
[--presets Dialogue ...] [--candidates FILE.json] [--items N]`

Each mixture of the list (the published format `clapsep eval-list` writes) is rendered
once at 32 kHz mono, then once per preset. Two figures per preset, averaged over items:

- `target SDRi`: plain SDR of the target stem against the list's source, minus the
  mixture's (the model card's SDRi), and `target SI-SDRi`, its scale-invariant twin;
- `residual SI-SDRi`: the residual stem against the rest of the mix (mixture minus
  source), minus the mixture's: whether the preset also leaves a cleaner rest, or
  damages it. (Plain SDRi of the residual would repeat the target's: residual and
  target err by the same signal.)

`--candidates` is a JSON list of preset objects (the preset file format; `format` and
`version` may be left out), the variants a factory preset is chosen from. Prints a table
and writes JSON (default `bench/results/preset_scores.json`).
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import ROOT, write_report
from clapsep.model.evaluation.metrics import sdr, si_sdr
from clapsep.model.evaluation.mixtures import read_mixture_csv, render

RATE = 32000


def _write(path: Path, audio: np.ndarray) -> Path:
    from pedalboard.io import AudioFile

    with AudioFile(str(path), "w", samplerate=RATE, num_channels=1, bit_depth=32) as f:
        f.write(audio[None, :].astype(np.float32))
    return path


def _read(path: Path) -> np.ndarray:
    from pedalboard.io import AudioFile

    with AudioFile(str(path)) as f:
        return f.read(f.frames)[0]


def presets(names: list[str], candidates: Path | None) -> list[Any]:
    """The library presets named, then the candidates' (in file order)."""
    from clapsep.host.presets import PRESET_FORMAT, Preset, PresetLibrary

    library = PresetLibrary()
    chosen = [library.get(name) for name in names]
    if candidates is not None:
        for data in json.loads(candidates.read_text()):
            chosen.append(Preset.from_json({"format": PRESET_FORMAT, "version": 1, **data}))
    return chosen


def describe(preset: Any) -> str:
    negative = preset.negative_text or "-"
    limit = "none" if preset.atten_limit_db is None else f"{preset.atten_limit_db:g} dB"
    return f"{preset.positive_text!r} / {negative!r} / limit {limit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.preset_scores", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--package", required=True)
    parser.add_argument("--mixtures", required=True, type=Path)
    parser.add_argument("--audio-root", required=True, type=Path)
    parser.add_argument("--presets", nargs="*", default=[], metavar="NAME")
    parser.add_argument("--candidates", type=Path)
    parser.add_argument("--items", type=int, help="the first N mixtures of the list")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "preset_scores.json"))
    args = parser.parse_args(argv)

    from clapsep.host.cli.options import engine_loader
    from clapsep.host.engine import RenderInput

    engine = engine_loader(args.package, "cpu", cache=False)()
    items = read_mixture_csv(args.mixtures)[: args.items]
    chosen = presets(args.presets, args.candidates)
    requests = [engine.prepare(p, overwrite=True, stems=("target", "residual")) for p in chosen]
    target: list[list[float]] = [[] for _ in chosen]
    target_si: list[list[float]] = [[] for _ in chosen]
    residual: list[list[float]] = [[] for _ in chosen]
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        for n, item in enumerate(items):
            mixture, source = render(item, args.audio_root)
            rest = mixture - source
            path = _write(work / f"mix{n}.wav", mixture)
            for k, request in enumerate(requests):
                (done,) = engine.render_many(request, [RenderInput(path, work / f"p{k}")])
                stems = {s.stem: _read(s.path) for s in done.stems}
                target[k].append(sdr(stems["target"], source) - sdr(mixture, source))
                target_si[k].append(si_sdr(stems["target"], source) - si_sdr(mixture, source))
                residual[k].append(si_sdr(stems["residual"], rest) - si_sdr(mixture, rest))
            print(f"mixture {n + 1}/{len(items)} done", flush=True)

    mean = statistics.fmean
    rows = [
        {
            "preset": p.name,
            "query": describe(p),
            "target_sdri": mean(target[k]),
            "target_si_sdri": mean(target_si[k]),
            "residual_si_sdri": mean(residual[k]),
        }
        for k, p in enumerate(chosen)
    ]
    package = engine.package
    print(f"{package.name} {package.version}, {len(items)} mixtures of {args.mixtures}")
    header = f"{'preset':<24} {'SDRi':>6} {'SI-SDRi':>7} {'rest SI-SDRi':>12}"
    print(f"{header}  positive / negative / limit")
    for row in rows:
        print(
            f"{row['preset']:<24} {row['target_sdri']:6.2f} {row['target_si_sdri']:7.2f} "
            f"{row['residual_si_sdri']:12.2f}  {row['query']}"
        )
    write_report(
        args.json,
        {
            "package": engine.package.name,
            "version": engine.package.version,
            "mixtures": str(args.mixtures),
            "items": len(items),
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
