"""`clapsep eval --model PACKAGE_OR_MODEL_DIR --mixtures CSV --audio-root DIR [--queries MODES]`
and `clapsep eval-list --corpus DIR --out LIST.csv` (a held-out list from a corpus table)."""

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from clapsep.errors import UserError

if TYPE_CHECKING:  # the CLI imports every command module: keep it light
    from clapsep.model.evaluation.heldout import ShotPool

CLIPS_TABLE = "clips.csv"  # the corpus table `clapsep corpus build` writes


def _modes(args: argparse.Namespace) -> list[str]:
    from clapsep.model.evaluation.runner import DEFAULT_MODE, parse_modes

    try:
        modes = parse_modes(args.queries or [])
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.positive_only:
        if modes and modes != ["text-p"]:
            raise UserError("--positive-only is --queries text-p; give one or the other")
        modes = ["text-p"]
    return modes or [DEFAULT_MODE]


def _shot_pool(args: argparse.Namespace, modes: list[str]) -> "ShotPool | None":
    """The clips table audio examples come from: --shots-from, else the audio root's clips.csv."""
    from clapsep.model.evaluation.heldout import ShotPool
    from clapsep.model.evaluation.runner import shot_count

    if not any(shot_count(m) for m in modes):
        return None
    table = Path(args.shots_from) if args.shots_from else Path(args.audio_root) / CLIPS_TABLE
    if not table.is_file():
        raise UserError(
            f"audio query modes need a clips table (--shots-from); {table} does not exist"
        )
    try:
        return ShotPool(table, args.seed)
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from clapsep.model.evaluation.backends import open_backend
    from clapsep.model.evaluation.mixtures import read_mixture_csv
    from clapsep.model.evaluation.report import overview, write_report
    from clapsep.model.evaluation.runner import evaluate

    modes = _modes(args)
    try:
        items = read_mixture_csv(Path(args.mixtures))
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if args.limit:
        items = items[: args.limit]
    if not 0 < args.seconds <= 10.23:
        raise UserError("--seconds must be in (0, 10.23]: one separator window")
    pool = _shot_pool(args, modes)
    backend = open_backend(Path(args.model), args.device, args.precision)
    bar = tqdm(total=len(items) * len(modes), unit="run", disable=args.quiet)
    records = evaluate(
        backend,
        items,
        Path(args.audio_root),
        args.seconds,
        modes,
        pool,
        lambda done, total: bar.update(1),
    )
    bar.close()
    meta = {
        "model": backend.name,
        "mixtures": str(args.mixtures),
        "items": len(items),
        "queries": modes,
        "seconds": args.seconds,
        "shots_from": str(pool.table) if pool else None,
        "shot_seed": args.seed if pool else None,
    }
    summaries = write_report(Path(args.out), records, meta)
    print(overview(summaries, f"{backend.name} on {args.mixtures}"))
    print(
        f"per-mode tables: {Path(args.out) / 'results.md'}; "
        f"per-item results: {Path(args.out) / 'results.json'}"
    )
    return 0


def _run_list(args: argparse.Namespace) -> int:
    from clapsep.model.evaluation.heldout import build_eval_list, read_val_clips
    from clapsep.model.evaluation.mixtures import write_mixture_csv

    table = Path(args.corpus) / CLIPS_TABLE
    if not table.is_file():
        raise UserError(
            f"{args.corpus} holds no {CLIPS_TABLE} (build a corpus with `clapsep corpus build`)"
        )
    if args.items < 1:
        raise UserError("--items must be at least 1")
    try:
        clips = read_val_clips(table, args.split)
        items = build_eval_list(
            clips, args.items, args.seed, args.snr_db, args.target_category, args.interferers
        )
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_mixture_csv(out, items)
    labels = {i.label for i in items}
    unused = sorted({c.label for c in clips} - labels)
    print(
        f"{len(items)} mixtures over {len(labels)} labels "
        f"from {len(clips)} {args.split} clips -> {out}"
    )
    if unused and len(items) >= len(labels):
        print(f"left out (no interferer of another category): {', '.join(unused)}")
    print(f"evaluate with: clapsep eval --mixtures {out} --audio-root {args.corpus} ...")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="score a model on a published-format mixture list (SDRi, SDRi-bss, SI-SDRi)"
    )
    p.add_argument(
        "--model",
        required=True,
        help="model package (ONNX), model directory, or training run folder",
    )
    p.add_argument(
        "--mixtures",
        required=True,
        help="CSV: source_file,positive_caption,noise_file,negative_caption[,snr_db,class]",
    )
    p.add_argument(
        "--audio-root", required=True, help="folder the CSV's file names are relative to"
    )
    p.add_argument("--out", default="eval-results", help="folder for results.json and results.md")
    p.add_argument(
        "--queries",
        action="append",
        metavar="MODES",
        help="query modes, repeatable or comma-separated: text-p, text-n, text-pn (default), "
        "audio-1, audio-5",
    )
    p.add_argument("--positive-only", action="store_true", help="same as --queries text-p")
    p.add_argument(
        "--shots-from",
        help=f"clips table the audio examples come from (default: the audio root's {CLIPS_TABLE})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the audio example choice")
    p.add_argument("--seconds", type=float, default=10.0, help="mixture length (published: 10 s)")
    p.add_argument("--limit", type=int, help="evaluate only the first N mixtures")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--precision", default="fp32", help="a package's separator: fp32 or bf16")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run)


def register_list(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval-list",
        help="a label-balanced held-out mixture list from a corpus's "
        "validation split or its held-out sources",
    )
    p.add_argument("--corpus", required=True, help=f"corpus folder with {CLIPS_TABLE} (read only)")
    p.add_argument("--out", required=True, help="mixture list CSV to write")
    p.add_argument("--items", type=int, default=200, help="number of mixtures")
    p.add_argument("--seed", type=int, default=0, help="seed of the label order and the picks")
    p.add_argument("--snr-db", type=float, default=0.0, help="mixture SNR (published: 0 dB)")
    p.add_argument(
        "--split",
        default="val",
        choices=("val", "test"),
        help="val: other recordings of the training packages; test: the held-out packages",
    )
    p.add_argument("--target-category", help="only targets of this category (e.g. speech)")
    p.add_argument(
        "--interferers",
        type=int,
        default=1,
        help="interferers per mixture (2: three-source mixtures)",
    )
    p.set_defaults(run=_run_list)
