"""`clapsep pretrain-clap`: contrastive pre-training of the bundled model's small CLAP."""

import argparse
from pathlib import Path

from clapsep.errors import UserError


def _run(args: argparse.Namespace) -> int:
    from clapsep.model.pretrain.contrastive import PretrainConfig, Pretrainer

    if args.export_init:
        return _export_init(Path(args.run_dir), Path(args.export_init))
    if not args.corpus:
        raise UserError("--corpus is required to train")

    cfg = PretrainConfig(
        corpus=Path(args.corpus),
        run_dir=Path(args.run_dir),
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        seed=args.seed,
    )
    try:
        trainer = Pretrainer(cfg)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    trainer.run()
    print(f"stopped at step {trainer.step}; best zero-shot accuracy {trainer.best_accuracy:.3f}")
    return 0


def _export_init(run_dir: Path, out: Path) -> int:
    from clapsep.model.pretrain.init_model import write_init_model

    checkpoint = next(
        (run_dir / n for n in ("best.pt", "last.pt") if (run_dir / n).is_file()), None
    )
    if checkpoint is None:
        raise UserError(f"no checkpoint in {run_dir} (train first)")
    write_init_model(checkpoint, out)
    print(f"separator init model from {checkpoint} -> {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pretrain-clap", help="train the small CLAP of the bundled model (needs [train])"
    )
    p.add_argument("--corpus", help="corpus folder with clips.csv (clapsep corpus build)")
    p.add_argument(
        "--export-init",
        metavar="DIR",
        help="write the separator's starting model (best checkpoint of --run-dir) and exit",
    )
    p.add_argument("--run-dir", required=True, help="run folder; an existing run resumes")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (cosine decay)")
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run)
