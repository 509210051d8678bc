"""`clapsep eval --model PACKAGE_OR_MODEL_DIR --mixtures CSV --audio-root DIR`."""

import argparse
from pathlib import Path

from host.errors import UserError


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from model.evaluation.backends import open_backend
    from model.evaluation.mixtures import read_mixture_csv
    from model.evaluation.report import markdown, write_report
    from model.evaluation.runner import evaluate

    try:
        items = read_mixture_csv(Path(args.mixtures))
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if args.limit:
        items = items[: args.limit]
    if not 0 < args.seconds <= 10.23:
        raise UserError("--seconds must be in (0, 10.23]: one separator window")
    backend = open_backend(Path(args.model), args.device)
    bar = tqdm(total=len(items), unit="mix", disable=args.quiet)
    records = evaluate(backend, items, Path(args.audio_root), args.seconds, not args.positive_only,
                       lambda done, total: bar.update(1))
    bar.close()
    meta = {"model": backend.name, "mixtures": str(args.mixtures), "items": len(items),
            "queries": "positive" if args.positive_only else "positive+negative", "seconds": args.seconds}
    summary = write_report(Path(args.out), records, meta)
    print(markdown(summary, f"{backend.name} on {args.mixtures}"))
    print(f"per-item results: {Path(args.out) / 'results.json'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="score a model on a published-format mixture list (SDRi, SDRi-bss, SI-SDRi)")
    p.add_argument("--model", required=True, help="model package (ONNX), model directory, or training run folder")
    p.add_argument("--mixtures", required=True, help="CSV: source_file,positive_caption,noise_file,negative_caption[,snr_db,class]")
    p.add_argument("--audio-root", required=True, help="folder the CSV's file names are relative to")
    p.add_argument("--out", default="eval-results", help="folder for results.json and results.md")
    p.add_argument("--positive-only", action="store_true", help="ignore negative captions (text P instead of P+N)")
    p.add_argument("--seconds", type=float, default=10.0, help="mixture length (published: 10 s)")
    p.add_argument("--limit", type=int, help="evaluate only the first N mixtures")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run)
