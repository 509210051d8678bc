"""`clapsep train CONFIG`: run or continue an experiment (needs the [train] extra)."""

import argparse
import dataclasses
from pathlib import Path

from clapsep.errors import UserError


def _run(args: argparse.Namespace) -> int:
    from clapsep.model.data.synthetic import write_synthetic_corpus
    from clapsep.model.training.config import ConfigError, load_config
    from clapsep.model.training.state import seed_from_carry, write_carry
    from clapsep.model.training.trainer import train

    if args.synthesize:
        clips = write_synthetic_corpus(Path(args.synthesize))
        print(f"wrote generated clips: {clips} and {clips.parent / 'mixtures.csv'}")
        return 0
    if not args.config:
        raise UserError("train: give a CONFIG file (or --synthesize DIR)")
    try:
        config = load_config(Path(args.config))
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    run = config.run
    if args.out:
        run = dataclasses.replace(run, out=args.out)
    if args.max_steps is not None:
        run = dataclasses.replace(run, max_steps=args.max_steps)
    config = dataclasses.replace(config, run=run)
    if args.fresh:
        (Path(run.out) / "last.pt").unlink(missing_ok=True)
    try:
        if args.carry:
            print(f"wrote {write_carry(Path(run.out), Path(args.carry))}")
            return 0
        if args.continue_from and seed_from_carry(Path(args.continue_from), Path(run.out)):
            print(f"continuing from {args.continue_from}", flush=True)
        out = train(config, resume=not args.fresh)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    print(f"run folder: {out} (model directory: {out / 'model'}; package it with `clapsep export`)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="train or fine-tune a separator from a YAML/TOML config (needs [train])"
    )
    p.add_argument("config", nargs="?", help="experiment config (.yaml or .toml)")
    p.add_argument("--out", help="run folder (overrides run.out)")
    p.add_argument(
        "--max-steps",
        type=int,
        help="stop after this many steps in total (overrides run.max_steps)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="ignore the run folder's checkpoint and start over"
    )
    p.add_argument(
        "--carry",
        metavar="FILE",
        help="write the run folder's checkpoint as a small carry-over file (float16 weights, "
        "no optimiser moments) and exit: keep it where the next session finds it",
    )
    p.add_argument(
        "--continue-from",
        metavar="FILE",
        help="a carry-over file to start from when the run folder has no checkpoint yet",
    )
    p.add_argument(
        "--synthesize",
        metavar="DIR",
        help="write a small generated corpus for the debug config and exit",
    )
    p.set_defaults(run=_run)
