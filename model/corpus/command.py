"""`clapsep corpus build|stats|example`: the command line of the corpus builder.

Registered through the `clapsep.commands` entry point; argparse setup only here, the
builder is imported inside `run` so other commands never pay for it.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from clapsep.errors import UserError


def default_out() -> Path:
    """`$CLAPSEP_DATA_DIR/corpus`, else the per-user data folder: never inside the repository."""
    from clapsep.paths import user_data_dir

    return user_data_dir() / "corpus"


def register(subparsers: argparse._SubParsersAction) -> None:
    corpus = subparsers.add_parser(
        "corpus", help="build the training corpus from Debian audio packages"
    )
    actions = corpus.add_subparsers(
        dest="corpus_command", metavar="ACTION", parser_class=type(corpus)
    )
    build = actions.add_parser("build", help="build or resume a corpus (idempotent)")
    build.add_argument("--out", type=Path, help=f"corpus folder (default: {default_out()})")
    build.add_argument(
        "--packages", nargs="+", metavar="PKG", help="only these Debian packages (default: all)"
    )
    build.add_argument(
        "--limit-per-label", type=int, metavar="N", help="at most about N training clips per label"
    )
    build.add_argument(
        "--seed", type=int, default=0, help="split, captions and generated music (default 0)"
    )
    build.add_argument(
        "--install", action="store_true", help="apt-get install the packages first (root)"
    )
    build.set_defaults(run=_run_build)
    stats = actions.add_parser("stats", help="counts and hours per label of a built corpus")
    stats.add_argument("dir", type=Path, help="corpus folder")
    stats.set_defaults(run=_run_stats)
    example = actions.add_parser(
        "example", help="build the README's example clip from held-out clips"
    )
    example.add_argument("dir", type=Path, help="corpus folder")
    example.add_argument(
        "--out", type=Path, required=True, help="folder for mixture.wav, its stems, SOURCES.md"
    )
    example.set_defaults(run=_run_example)
    corpus.set_defaults(run=lambda args: corpus.print_help() or 2)


def _run_build(args: argparse.Namespace) -> int:
    from clapsep.model.corpus.build import BuildOptions, Progress, build
    from clapsep.model.corpus.packages import apt_install, select
    from clapsep.model.corpus.report import format_stats

    if args.limit_per_label is not None and args.limit_per_label < 1:
        raise UserError("--limit-per-label must be at least 1")
    out = (args.out or default_out()).resolve()
    if any((folder / ".git").exists() for folder in (out, *out.parents)):
        raise UserError(f"{out} is inside a git checkout; build the corpus outside the repository")
    last = [0.0]

    def report(p: Progress) -> None:
        if p.done == p.total or time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            print(
                f"[{time.strftime('%H:%M:%S')}] {p.done}/{p.total} {p.status:<10} {p.key}",
                flush=True,
            )

    if args.install:
        apt_install(select(args.packages))
    options = BuildOptions(
        out=out,
        packages=tuple(args.packages or ()),
        limit_per_label=args.limit_per_label,
        seed=args.seed,
    )
    print(f"building corpus in {out} (pid {os.getpid()})", flush=True)
    summary = build(options, report)
    print(format_stats(summary))
    print(
        f"done in {summary['build_seconds']:.0f} s; clips.csv, licences.csv, summary.json in {out}"
    )
    for failure in summary["failures"][:10]:
        print(f"failed: {failure['source']}: {failure['error']}", file=sys.stderr)
    return 0


def _run_stats(args: argparse.Namespace) -> int:
    from clapsep.model.corpus.report import format_stats, read_summary

    if not (args.dir / "summary.json").is_file():
        raise UserError(
            f"no corpus in {args.dir} (summary.json missing); run `clapsep corpus build` first"
        )
    print(format_stats(read_summary(args.dir)))
    return 0


def _run_example(args: argparse.Namespace) -> int:
    from clapsep.model.corpus.example import build_example

    if not (args.dir / "clips.csv").is_file():
        raise UserError(
            f"no corpus in {args.dir} (clips.csv missing); run `clapsep corpus build` first"
        )
    try:
        sources = build_example(args.dir, args.out)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    print(
        f"wrote {args.out}: " + ", ".join(f"{k} from {len(v)} clip(s)" for k, v in sources.items())
    )
    return 0
