"""Command-line options the bridge's one-shot commands share: the query, stems and model.

`clapsep otio` and `clapsep audacity` build a `JobSpec` from these, so a preset name
or a query given here means exactly what it means in a job sent by a DAW script.
"""

import argparse
from typing import Any

from clapsep.errors import UserError
from clapsep.host.cli.options import add_engine_options
from clapsep.host.render import CHANNEL_MODES, STEMS

# The service's largest request: a job of the most clips with long paths fits easily.
MAX_BODY = 1 << 20  # 1 MiB


def add_query_arguments(p: argparse.ArgumentParser) -> None:
    q = p.add_argument_group("query and model")
    q.add_argument("--preset", metavar="NAME", help="library preset name")
    q.add_argument(
        "--query", metavar="TEXT", help="what to isolate, in words (replaces the preset's)"
    )
    q.add_argument("--negative", metavar="TEXT", help="what to push into the residual, in words")
    q.add_argument(
        "--split",
        metavar="NAME=TEXT",
        action="append",
        default=[],
        help="one stem of a split (repeat for each): every NAME plus rest, summing to the clip",
    )
    q.add_argument(
        "--overlapping", action="store_true", help="a split's stems as independent targets"
    )
    q.add_argument(
        "--stems",
        metavar="LIST",
        help=f"comma-separated subset of {','.join(STEMS)} (of a split: its names and rest)",
    )
    q.add_argument(
        "--atten-limit", type=float, metavar="DB", help="keep the input at -DB dB in the target"
    )
    q.add_argument("--channel-mode", choices=CHANNEL_MODES, default="independent")
    add_engine_options(q)


def job_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The `JobSpec` fields (all but clips) the options give."""
    query = None
    if args.query or args.negative:
        query = {"positive": args.query or "", "negative": args.negative or ""}
    split = None
    if args.split:
        split = []
        for item in args.split:
            name, equals, text = (part.strip() for part in item.partition("="))
            if not equals or not name or not text:
                raise UserError(
                    f"--split takes NAME=TEXT (e.g. dialogue=a person speaking), got {item!r}"
                )
            split.append({"name": name, "positive": text})
    return {
        "preset": args.preset,
        "query": query,
        "split": split,
        "overlapping": args.overlapping,
        "atten_limit_db": args.atten_limit,
        "stems": [s.strip() for s in args.stems.split(",")] if args.stems else None,
        "channel_mode": args.channel_mode,
    }
