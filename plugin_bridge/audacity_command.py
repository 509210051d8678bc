"""`clapsep audacity`: isolate a sound in Audacity's current selection, stems as new tracks.

Run it (from a terminal, or from an Audacity macro's "Execute" step) while Audacity has
a time range selected on one or more audio tracks. For each selected track it exports
exactly the selection, renders it, imports each stem as a new track named
"<track> - <stem>" and moves that track's clip to the selection start, so the stems
line up sample for sample with the source range. The source tracks are not touched.

Audacity's scripting has no "get selection" command, so the selection's times are read
by adding a label over it and undoing that again.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.host.cli.options import open_engine
from clapsep.paths import user_data_dir
from clapsep.plugin_bridge.audacity import AudacityPipe, quoted
from clapsep.plugin_bridge.jobs import parse_job, run_job
from clapsep.plugin_bridge.options import add_query_arguments, job_fields


def _labels(pipe: AudacityPipe) -> set[tuple[int, float, float, str]]:
    return {
        (track, start, end, text)
        for track, labels in pipe.json("GetInfo: Type=Labels Format=JSON")
        for start, end, text in labels
    }


def read_selection(pipe: AudacityPipe) -> tuple[float, float, list[tuple[int, dict[str, Any]]]]:
    """(start, end, [(track index, track info)] of the selected audio tracks)."""
    tracks = pipe.json("GetInfo: Type=Tracks Format=JSON")
    selected = [
        (i, t) for i, t in enumerate(tracks) if t.get("kind") == "wave" and t.get("selected")
    ]
    if not selected:
        raise UserError("select a time range on at least one audio track in Audacity first")
    before = _labels(pipe)
    pipe.command("AddLabel:")
    try:
        added = _labels(pipe) - before
    finally:
        pipe.command("Undo:")
    if len(added) != 1:
        raise UserError("could not read Audacity's selection (adding a label over it failed)")
    _, start, end, _ = added.pop()
    if end <= start:
        raise UserError("the selection is empty: drag over a time range first")
    return start, end, selected


def bridge(pipe: AudacityPipe, args: argparse.Namespace, work_dir: Path) -> list[dict[str, Any]]:
    """Export, render, import and place; returns one record per new track."""
    start, end, selected = read_selection(pipe)
    work_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for index, track in selected:
        exported = work_dir / f"track{index}.wav"
        pipe.command(f"Select: Start={start!r} End={end!r} Track={index} TrackCount=1 Mode=Set")
        pipe.command(
            f"Export2: Filename={quoted(str(exported))} NumChannels={int(track.get('channels', 1))}"
        )
        clips.append(
            {"id": str(index), "source": str(exported), "position": start, "track": track["name"]}
        )
    spec = parse_job({**job_fields(args), "clips": clips})
    results = run_job(open_engine(args), spec, work_dir / "stems")
    if failed := [r for r in results if r.error]:
        raise UserError(f"track {failed[0].track!r}: {failed[0].error}")
    placed = []
    for result in results:
        for stem in result.stems:
            new_index = len(pipe.json("GetInfo: Type=Tracks Format=JSON"))
            name = f"{result.track} - {stem.stem}"
            pipe.command(f"Import2: Filename={quoted(stem.path)}")
            pipe.command(f"SetTrack: Track={new_index} Name={quoted(name)}")
            pipe.command(f"SelectTracks: Track={new_index} TrackCount=1 Mode=Set")
            pipe.command(f"SetClip: At=0 Start={start!r}")
            placed.append({"track": new_index, "name": name, "start": start, "path": stem.path})
    for n, (index, _) in enumerate(selected):  # give the user back the selection they made
        pipe.command(
            f"Select: Start={start!r} End={end!r} Track={index} TrackCount=1 "
            f"Mode={'Add' if n else 'Set'}"
        )
    return placed


def _run(args: argparse.Namespace) -> int:
    work = Path(args.work_dir).expanduser() if args.work_dir else user_data_dir() / "audacity"
    with AudacityPipe(timeout=args.timeout).connect(wait=args.timeout) as pipe:
        placed = bridge(pipe, args, work / time.strftime("%Y%m%d-%H%M%S"))
    for record in placed:
        print(f"{record['name']}: {record['path']}", file=sys.stdout)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audacity",
        help="isolate a sound in Audacity's selection; stems come back as new tracks",
        description="Needs a running Audacity with mod-script-pipe enabled. Renders the selected "
        "time range of each selected audio track and adds '<track> - <stem>' tracks at the "
        "selection start.",
    )
    p.add_argument(
        "--work-dir",
        metavar="DIR",
        help="where exported selections and stems are kept (default: <data>/audacity)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="longest wait for an Audacity reply",
    )
    add_query_arguments(p)
    p.set_defaults(run=_run)
