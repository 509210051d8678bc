"""Quality of a split and of span queries on held-out three-source mixtures.

`python -m bench.split_quality --package DIR --corpus CORPUS [--mixtures 24] [--seed 0]`

Mixtures are built from the corpus's `test` split only (sources no model trained on): one
speech clip, one music clip and one effect (nature, animal, vehicle, machine or ambience),
5 s each at 32 kHz mono, summed at 0 / -5 / -3 dB. Each renders through the product's
`Engine` (the render path an editor's clip takes):

- split: `--split speech=... music=... effect=<its caption>` with the partition;
- alone: each of the three queries as its own one-query render (its target);
- SDRi of every stem (plain SDR of the estimate minus that of the mixture, against the
  source, as the model card's `SDRi`), and the largest |stems + rest - input| of each split.

Span queries: the speech (then the music) clip's first 2 s play alone before the 5 s mixture
(7 s in all, the continuation of the same clip under the other two). Scored on the mixture
part against the target source, three ways: text alone, the 2 s span of the clip itself
(`--query-span 0:2`), and a 5-shot audio query of five other held-out clips of that
category (never the target's own clip).

Prints a table and writes JSON (default `bench/results/split_quality.json`).
"""

import argparse
import csv
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.workers import ROOT, write_report
from clapsep.model.evaluation.metrics import sdr

RATE = 32000
SECONDS = 5.0
LEAD = 2.0  # seconds of the target alone before the mixture, for the span query
GAINS_DB = {"speech": 0.0, "music": -5.0, "effect": -3.0}
TEXT = {"speech": "a person speaking", "music": "music playing"}
EFFECTS = {"nature", "animal", "vehicle", "machine", "ambience"}


def _read(path: Path, seconds: float, offset: float = 0.0) -> np.ndarray:
    from pedalboard.io import AudioFile

    with AudioFile(str(path)) as f, f.resampled_to(RATE) as r:
        audio = r.read(r.frames).mean(axis=0)
    need = round(seconds * RATE)
    start = round(offset * RATE)
    audio = audio[start : start + need]
    return np.pad(audio, (0, need - audio.size)).astype(np.float32)


def _write(path: Path, audio: np.ndarray) -> Path:
    from pedalboard.io import AudioFile

    with AudioFile(str(path), "w", samplerate=RATE, num_channels=1, bit_depth=32) as f:
        f.write(audio[None, :].astype(np.float32))
    return path


def _stem_audio(outcome: Any) -> dict[str, np.ndarray]:
    from pedalboard.io import AudioFile

    out = {}
    for stem in outcome.stems:
        with AudioFile(str(stem.path)) as f:
            out[stem.stem] = f.read(f.frames)[0]
    return out


def _norm(audio: np.ndarray, db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(audio**2))) or 1.0
    return audio / rms * 0.05 * 10 ** (db / 20)


def held_out(corpus: Path) -> dict[str, list[dict[str, str]]]:
    with open(corpus / "clips.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "test"]
    long = [r for r in rows if float(r["duration_s"]) >= SECONDS + LEAD]
    return {
        "speech": [r for r in long if r["category"] == "speech"],
        "music": [r for r in long if r["category"] == "music"],
        "effect": [r for r in rows if r["category"] in EFFECTS and float(r["duration_s"]) >= 2],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.split_quality", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--package", required=True)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--mixtures", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "split_quality.json"))
    args = parser.parse_args(argv)

    from clapsep.host.cli.options import engine_loader
    from clapsep.host.engine import RenderInput
    from clapsep.host.presets import Preset, SplitStem

    engine = engine_loader(args.package, "cpu", cache=False, precision=args.precision)()
    pools = held_out(args.corpus)
    rng = np.random.default_rng(args.seed)
    split_sdri: dict[str, list[float]] = {k: [] for k in GAINS_DB}
    alone_sdri: dict[str, list[float]] = {k: [] for k in GAINS_DB}
    span_sdri: dict[str, dict[str, list[float]]] = {
        t: {"text": [], "span 2 s": [], "5-shot audio": []} for t in TEXT
    }
    sum_error = 0.0
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        for n in range(args.mixtures):
            picks = {k: pools[k][rng.integers(len(pools[k]))] for k in GAINS_DB}
            full = {
                k: _norm(_read(args.corpus / picks[k]["path"], SECONDS + LEAD), GAINS_DB[k])
                for k in TEXT
            }
            full["effect"] = _norm(_read(args.corpus / picks["effect"]["path"], SECONDS), -3.0)
            sources = {k: v[-round(SECONDS * RATE) :] for k, v in full.items()}
            mixture = sum(sources.values())
            mix_path = _write(work / f"mix{n}.wav", mixture)
            queries = {**TEXT, "effect": picks["effect"]["caption"]}
            split = Preset(
                name="split",
                split=tuple(SplitStem(name=k, positive_text=q) for k, q in queries.items()),
            )
            request = engine.prepare(split, overwrite=True)
            (outcome,) = engine.render_many(request, [RenderInput(mix_path, work / f"s{n}")])
            stems = _stem_audio(outcome)
            sum_error = max(sum_error, float(np.abs(sum(stems.values()) - mixture).max()))
            for k, source in sources.items():
                base = sdr(mixture, source)
                split_sdri[k].append(sdr(stems[k], source) - base)
                alone = engine.prepare(Preset(name=k, positive_text=queries[k]), overwrite=True)
                (single,) = engine.render_many(alone, [RenderInput(mix_path, work / f"a{n}{k}")])
                alone_sdri[k].append(sdr(_stem_audio(single)["target"], source) - base)
            for target in TEXT:
                others = [k for k in sources if k != target]
                others_of = [r for r in pools[target] if r["group"] != picks[target]["group"]]
                lead = full[target]
                clip = lead.copy()
                clip[round(LEAD * RATE) :] += sum(sources[k] for k in others)
                clip_path = _write(work / f"span{n}{target}.wav", clip)
                shots = [
                    _write(work / f"shot{n}{target}{i}.wav", _read(args.corpus / r["path"], 5.0))
                    for i, r in enumerate(
                        others_of[j] for j in rng.choice(len(others_of), 5, replace=False)
                    )
                ]
                ways = {
                    "text": Preset(name="t", positive_text=TEXT[target]),
                    "span 2 s": Preset(name="s", positive_spans=((0.0, LEAD),)),
                    "5-shot audio": Preset(name="a", positive_audio=tuple(map(str, shots))),
                }
                reference = lead[round(LEAD * RATE) :]
                region = clip[round(LEAD * RATE) :]
                for way, preset in ways.items():
                    req = engine.prepare(preset, span_source=clip_path, overwrite=True)
                    (done,) = engine.render_many(req, [RenderInput(clip_path, work / f"q{n}")])
                    estimate = _stem_audio(done)["target"][round(LEAD * RATE) :]
                    span_sdri[target][way].append(sdr(estimate, reference) - sdr(region, reference))
            print(f"mixture {n + 1}/{args.mixtures} done", flush=True)

    mean = statistics.fmean
    print(f"{engine.package.name} {engine.package.version}, {args.mixtures} held-out mixtures")
    print(f"{'stem':<8} {'split SDRi':>11} {'alone SDRi':>11} {'split - alone':>14}")
    for k in GAINS_DB:
        print(
            f"{k:<8} {mean(split_sdri[k]):11.2f} {mean(alone_sdri[k]):11.2f} "
            f"{mean(split_sdri[k]) - mean(alone_sdri[k]):14.2f}"
        )
    print(f"max |stems + rest - input| = {sum_error:.2e}")
    print(f"{'target':<8} {'text':>7} {'span 2 s':>9} {'5-shot':>7}   (SDRi, dB)")
    for t, ways in span_sdri.items():
        print(f"{t:<8} " + " ".join(f"{mean(v):8.2f}" for v in ways.values()))
    write_report(
        args.json,
        {
            "package": engine.package.name,
            "version": engine.package.version,
            "mixtures": args.mixtures,
            "seed": args.seed,
            "split_sdri": {k: mean(v) for k, v in split_sdri.items()},
            "alone_sdri": {k: mean(v) for k, v in alone_sdri.items()},
            "max_sum_error": sum_error,
            "span_sdri": {
                t: {w: mean(v) for w, v in ways.items()} for t, ways in span_sdri.items()
            },
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
