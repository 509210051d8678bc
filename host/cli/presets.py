"""`clapsep presets`: list, show, save, import, export and delete library presets."""

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from clapsep.errors import UserError
from clapsep.host.presets import Preset, PresetLibrary


def _list(library: PresetLibrary, args: argparse.Namespace) -> int:
    presets = library.presets()
    if args.json:
        print(
            json.dumps(
                {
                    "presets": [
                        {**p.to_json(), "factory": library.is_factory(p.name)} for p in presets
                    ],
                    "problems": library.problems,
                },
                indent=2,
            )
        )
        return 0
    for p in presets:
        origin = "factory" if library.is_factory(p.name) else "user"
        print(f"{p.name:<28} {p.category:<10} {origin:<8} {p.notes.split('. ')[0]}")
    for problem in library.problems:
        print(f"warning: {problem}")
    return 0


def _show(library: PresetLibrary, args: argparse.Namespace) -> int:
    print(json.dumps(library.get(args.name).to_json(), indent=2, ensure_ascii=False))
    return 0


def _save(library: PresetLibrary, args: argparse.Namespace) -> int:
    base = library.get(args.base) if args.base else None
    values = {
        "category": args.category,
        "notes": args.notes,
        "positive_text": args.query,
        "negative_text": args.negative,
        "atten_limit_db": args.atten_limit,
    }
    values = {k: v for k, v in values.items() if v is not None}
    if args.tags is not None:
        values["tags"] = tuple(t.strip() for t in args.tags.split(",") if t.strip())
    if args.query_audio:
        values["positive_audio"] = tuple(
            str(Path(a).expanduser().resolve()) for a in args.query_audio
        )
    if args.negative_audio:
        values["negative_audio"] = tuple(
            str(Path(a).expanduser().resolve()) for a in args.negative_audio
        )
    preset = replace(base, name=args.name, **values) if base else Preset(name=args.name, **values)
    print(library.save(preset, overwrite=args.overwrite))
    return 0


def _import(library: PresetLibrary, args: argparse.Namespace) -> int:
    stored = library.import_file(Path(args.file))
    for preset in stored:
        print(f"imported {preset.name}")
    if not stored:
        print("nothing new: every preset in the file is already in the library")
    return 0


def _export(library: PresetLibrary, args: argparse.Namespace) -> int:
    names = args.names or [p.name for p in library.presets() if not library.is_factory(p.name)]
    if not names:
        raise UserError("no user presets to export; name the presets to export")
    library.export(names, Path(args.out))
    print(f"exported {len(names)} preset(s) to {args.out}")
    return 0


def _delete(library: PresetLibrary, args: argparse.Namespace) -> int:
    library.delete(args.name)
    return 0


def _action(
    actions: argparse._SubParsersAction,
    name: str,
    fn: Callable[[PresetLibrary, argparse.Namespace], int],
    help: str,
    *positionals: str,
) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help)
    for positional in positionals:
        parser.add_argument(positional)
    parser.set_defaults(action_fn=fn)
    return parser


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "presets", help="manage the preset library (factory and user presets)"
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    _action(actions, "list", _list, "list presets and what each targets").add_argument(
        "--json", action="store_true"
    )
    _action(actions, "show", _show, "print a preset as JSON", "name")
    a = _action(
        actions, "save", _save, "save a user preset (from scratch or based on another)", "name"
    )
    a.add_argument("--from", dest="base", metavar="PRESET", help="start from this preset")
    a.add_argument("--query", metavar="TEXT")
    a.add_argument("--negative", metavar="TEXT")
    a.add_argument("--query-audio", action="append", default=[], metavar="FILE")
    a.add_argument("--negative-audio", action="append", default=[], metavar="FILE")
    a.add_argument("--category")
    a.add_argument("--tags", metavar="A,B")
    a.add_argument("--notes", metavar="TEXT", help="what the preset targets, in words")
    a.add_argument("--atten-limit", type=float, metavar="DB")
    a.add_argument("--overwrite", action="store_true")
    _action(actions, "import", _import, "add the presets of a preset or library file", "file")
    a = _action(actions, "export", _export, "write presets to one file (default: all user presets)")
    a.add_argument("names", nargs="*", metavar="NAME")
    a.add_argument("--out", required=True, metavar="FILE")
    _action(
        actions,
        "delete",
        _delete,
        "delete a user preset (a shadowed factory preset returns)",
        "name",
    )
    p.set_defaults(run=lambda args: args.action_fn(PresetLibrary(), args))
