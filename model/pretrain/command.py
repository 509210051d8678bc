"""`clapsep pretrain-clap`: contrastive pre-training of the bundled model's small CLAP."""

import argparse
from pathlib import Path

from host.errors import UserError


def _run(args: argparse.Namespace) -> int:
    from model.pretrain.contrastive import PretrainConfig, Pretrainer

    cfg = PretrainConfig(corpus=Path(args.corpus), run_dir=Path(args.run_dir), steps=args.steps,
                         batch_size=args.batch_size, lr=args.lr, warmup_steps=args.warmup_steps, seed=args.seed)
    try:
        trainer = Pretrainer(cfg)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    trainer.run()
    print(f"stopped at step {trainer.step}; best zero-shot accuracy {trainer.best_accuracy:.3f}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("pretrain-clap", help="train the small CLAP of the bundled model (needs [train])")
    p.add_argument("--corpus", required=True, help="corpus folder with clips.csv (clapsep corpus build)")
    p.add_argument("--run-dir", required=True, help="run folder; an existing run resumes")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (cosine decay)")
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run)
