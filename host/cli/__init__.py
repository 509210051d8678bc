"""The `clapsep` command line.

Sub-commands live with the package they drive and plug in through the
`clapsep.commands` entry-point group, so rendering never imports torch, ui or the
bridge. Each entry point is a `register(subparsers)` that adds one sub-parser and
sets `run=callable(args) -> int` as its default.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points, version

from clapsep.errors import UserError
from clapsep.host.cli.stopping import Stopped


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clapsep", description="Query-based sound isolation for audio editors.")
    parser.add_argument(
        "--version", action="version", version=f"clapsep-studio {version('clapsep-studio')}"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for ep in sorted(entry_points(group="clapsep.commands"), key=lambda e: e.name):
        ep.load()(subparsers)
    return parser


# `clapsep render --job FILE ...` is `clapsep job FILE ...`, `render --otio IN ...` is
# `otio IN ...`: the file-based DAW front ends live in plugin_bridge, which host must not
# import.
RENDER_ALIASES = {"--job": "job", "--otio": "otio"}


def render_alias(argv: Sequence[str]) -> list[str]:
    """Rewrite the `render --job/--otio` spellings to the sub-commands that implement them."""
    args = list(argv)
    if not args or args[0] != "render":
        return args
    for i, arg in enumerate(args[1:], start=1):
        flag, equals, value = arg.partition("=")
        if flag in RENDER_ALIASES:
            taken = i + 1 if equals else i + 2  # `--job=FILE` or `--job FILE`
            target = [value] if equals else args[i + 1 : i + 2]
            return [RENDER_ALIASES[flag], *target, *args[1:i], *args[taken:]]
    return args


# A command whose optional dependencies are not installed names the extra that brings them.
EXTRA_OF = {
    "PyQt6": "ui",
    "fastapi": "bridge",
    "starlette": "bridge",
    "pydantic": "bridge",
    "uvicorn": "bridge",
    "opentimelineio": "bridge",
    "torch": "train",
    "laion_clap": "train",
    "peft": "train",
    "onnx": "train",
    "yaml": "train",
    "safetensors": "train",
}


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """`pip install 'clapsep-studio[EXTRA]'` advice when `exc` is an optional dependency."""
    extra = EXTRA_OF.get((exc.name or "").split(".")[0])
    if extra is None:
        return None
    return (
        f"this command needs {exc.name}, from the [{extra}] extra: "
        f"pip install 'clapsep-studio[{extra}]'"
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = render_alias(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or bool(os.environ.get("CLAPSEP_DEBUG"))
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Stopped as exc:  # SIGTERM/SIGINT during a command that cleans up on them
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, ModuleNotFoundError) and (advice := missing_extra(exc)):
            print(f"error: {advice}", file=sys.stderr)
            return 2
        print(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
