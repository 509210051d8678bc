"""`clapsep audacity`: isolate a sound in Audacity's current selection, stems as new tracks.

Run it (from a terminal, or from an Audacity macro's "Execute" step) while Audacity has
a time range selected on one or more audio tracks. For each selected track it exports
exactly the selection as 32-bit float (the project's own samples, no dither), renders
it and places the stems as new tracks named "<track> - <stem>" whose clips start at the
selection start, so they line up sample for sample with the source range and sum to it.

Undo safety (`place_stems`): Audacity records an import as an undo step but not the
scripted rename or move that follows it, so stems are staged first (import, align to the
selection start, rename), copied to the clipboard, and the staging steps are undone
again; one paste then adds every stem of the render as one undo step. The source tracks
and earlier stems are never changed; one Edit > Undo removes exactly this render.
"""

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.host.cli.options import open_engine
from clapsep.paths import user_data_dir
from clapsep.plugin_bridge.audacity import AudacityPipe, quoted
from clapsep.plugin_bridge.jobs import parse_job, run_job
from clapsep.plugin_bridge.options import add_query_arguments, job_fields

# Preferences Export2 reads for a .wav file, set for the export and restored after it:
# libsndfile's WAV subtype (6 = 32-bit float; Audacity's default is 2, 16-bit PCM) and
# the dither choices (only used when converting to fewer bits; off all the same).
EXPORT_PREFERENCES: dict[str, tuple[str, str]] = {  # name: (value for the export, default)
    "/FileFormats/ExportFormat_SF1_Type/WAV_10000": ("6", "2"),
    "/Quality/DitherAlgorithmChoice": ("None", "None"),
    "/Quality/HQDitherAlgorithmChoice": ("None", "Shaped"),
}
COPY_MARGIN = 1.0  # seconds copied past the staged stems' end (GetInfo rounds to 6 digits)


@dataclass(frozen=True)
class StemFile:
    """One stem to place: the new track's name and the file holding its samples."""

    name: str
    path: Path


@dataclass(frozen=True)
class PlacedStem:
    track: int
    name: str
    start: float
    end: float
    path: Path


def tracks(pipe: AudacityPipe) -> list[dict[str, Any]]:
    return pipe.json("GetInfo: Type=Tracks Format=JSON")


def snapshot(pipe: AudacityPipe) -> str:
    """The project's tracks, clips and labels, selection and focus left out."""
    state = [{k: v for k, v in t.items() if k not in ("selected", "focused")} for t in tracks(pipe)]
    clips = pipe.json("GetInfo: Type=Clips Format=JSON")
    labels = pipe.json("GetInfo: Type=Labels Format=JSON")
    return json.dumps([state, clips, labels], sort_keys=True)


def selected_tracks(pipe: AudacityPipe) -> list[tuple[int, dict[str, Any]]]:
    """[(track index, track info)] of the selected audio tracks; refuses what would not
    export the track's own samples (Audacity's export applies gain, pan and mute)."""
    selected = [
        (i, t) for i, t in enumerate(tracks(pipe)) if t.get("kind") == "wave" and t.get("selected")
    ]
    if not selected:
        raise UserError("select a time range on at least one audio track in Audacity first")
    for _, t in selected:
        if t.get("mute") or not math.isclose(float(t.get("gain", 1)), 1) or t.get("pan", 0):
            raise UserError(
                f"track {t['name']!r} is muted or has a gain or pan set: Audacity exports "
                "through them, so set gain 0 dB, pan centre and unmute it, then run again"
            )
    return selected


def select_tracks(pipe: AudacityPipe, indices: Sequence[int]) -> None:
    """Select exactly these tracks; the time selection stays as it is."""
    if not indices:
        pipe.command("SelectTracks: Track=0 TrackCount=0 Mode=Set")
    for n, index in enumerate(indices):
        mode = "Add" if n else "Set"
        pipe.command(f"SelectTracks: Track={index} TrackCount=1 Mode={mode}")


@contextmanager
def float_export(pipe: AudacityPipe) -> Iterator[None]:
    """Export2 writes 32-bit float WAV without dither inside; the user's values come back."""
    saved: dict[str, str] = {}
    for name, (_, default) in EXPORT_PREFERENCES.items():
        try:
            saved[name] = pipe.command(f"GetPreference: Name={name}").strip()
        except UserError:  # never set: Audacity used its default
            saved[name] = default
    try:
        for name, (value, _) in EXPORT_PREFERENCES.items():
            pipe.command(f"SetPreference: Name={name} Value={quoted(value)}")
        yield
    finally:
        for name, value in saved.items():
            pipe.command(f"SetPreference: Name={name} Value={quoted(value)}")


def export_selection(
    pipe: AudacityPipe, selected: Sequence[tuple[int, dict[str, Any]]], work_dir: Path
) -> list[Path]:
    """Each selected track's selected range, bit-exact, as `work_dir/track<index>.wav`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    try:
        with float_export(pipe):
            for index, track in selected:
                path = work_dir / f"track{index}.wav"
                select_tracks(pipe, [index])
                channels = int(track.get("channels", 1))
                pipe.command(f"Export2: Filename={quoted(str(path))} NumChannels={channels}")
                if not path.is_file() or path.stat().st_size <= 44:
                    raise UserError("the selection is empty: drag over a time range first")
                paths.append(path)
    finally:
        select_tracks(pipe, [index for index, _ in selected])
    return paths


def _undo_to(pipe: AudacityPipe, count: int, limit: int) -> int:
    """Undo until the project has `count` tracks again; the number of steps taken."""
    steps = 0
    while len(tracks(pipe)) > count:
        if steps > limit:
            raise UserError("Audacity's Edit > Undo did not remove the staged stems")
        pipe.command("Undo:")
        steps += 1
    return steps


def place_stems(pipe: AudacityPipe, stems: Sequence[StemFile]) -> list[PlacedStem]:
    """Add every stem as a new track whose clip starts at the selection start, in one undo
    step, below the existing tracks in the order given; the selection is given back.

    The stems may be any number of (name, file): a target and residual, or a split's stems.
    """
    if not stems:
        return []
    before = tracks(pipe)
    first = len(before)
    user_selection = [i for i, t in enumerate(before) if t.get("selected")]
    state = snapshot(pipe)
    pipe.command("SelSave:")  # the time selection, kept outside the undo history
    for k, stem in enumerate(stems):  # staging: each step below is undone again
        pipe.command(f"Import2: Filename={quoted(str(stem.path))}")
        if len(tracks(pipe)) != first + k + 1:
            _undo_to(pipe, first, 2 * k + 2)
            raise UserError(f"Audacity did not import {stem.path} as one track")
        pipe.command("SelRestore:")
        select_tracks(pipe, [first + k])
        pipe.command("Align_StartToSelStart:")
        pipe.command(f"SetTrack: Track={first + k} Name={quoted(stem.name)}")
    staged = [c for c in pipe.json("GetInfo: Type=Clips Format=JSON") if c["track"] >= first]
    end = max(c["end"] for c in staged) + COPY_MARGIN
    pipe.command(f"Select: Start=0 End={end!r} Track={first} TrackCount={len(stems)} Mode=Set")
    pipe.command("Copy:")
    steps = _undo_to(pipe, first, 2 * len(stems) + 1)
    if snapshot(pipe) != state:  # the undo history was behind the project: keep the staging
        for _ in range(steps):
            pipe.command("Redo:")
        print(
            "warning: Audacity's undo history did not hold the project as it was (a script "
            "changed it without an undo step), so each stem took its own undo steps",
            file=sys.stderr,
        )
    else:
        pipe.command("SelectNone:")
        pipe.command("Paste:")
    placed_tracks = tracks(pipe)
    clips = pipe.json("GetInfo: Type=Clips Format=JSON")
    placed = []
    for k, stem in enumerate(stems):
        index = first + k
        mine = [c for c in clips if c["track"] == index]
        if len(placed_tracks) <= index or placed_tracks[index]["name"] != stem.name or not mine:
            raise UserError(f"Audacity did not place stem {stem.name!r} (track {index})")
        placed.append(PlacedStem(index, stem.name, mine[0]["start"], mine[-1]["end"], stem.path))
    if len({p.start for p in placed}) != 1:
        raise UserError("Audacity placed the stems at different times; Edit > Undo removes them")
    pipe.command("SelRestore:")
    select_tracks(pipe, user_selection)
    return placed


def bridge(pipe: AudacityPipe, args: argparse.Namespace, work_dir: Path) -> list[PlacedStem]:
    """Export, render and place; returns one record per new track."""
    selected = selected_tracks(pipe)
    exported = export_selection(pipe, selected, work_dir)
    clips = [
        {"id": str(index), "source": str(path), "position": 0.0, "track": track["name"]}
        for (index, track), path in zip(selected, exported, strict=True)
    ]
    spec = parse_job({**job_fields(args), "clips": clips})
    results = run_job(open_engine(args), spec, work_dir / "stems")
    if failed := [r for r in results if r.error]:
        raise UserError(f"track {failed[0].track!r}: {failed[0].error}")
    stems = [
        StemFile(f"{result.track} - {stem.stem}", Path(stem.path))
        for result in results
        for stem in result.stems
    ]
    return place_stems(pipe, stems)


def _run(args: argparse.Namespace) -> int:
    work = Path(args.work_dir).expanduser() if args.work_dir else user_data_dir() / "audacity"
    with AudacityPipe(timeout=args.timeout).connect(wait=args.busy_wait) as pipe:
        placed = bridge(pipe, args, work / time.strftime("%Y%m%d-%H%M%S"))
    for stem in placed:
        print(f"{stem.name}: {stem.path} at {stem.start:g} s", file=sys.stdout)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audacity",
        help="isolate a sound in Audacity's selection; stems come back as new tracks",
        description="Needs a running, idle Audacity with mod-script-pipe enabled. Renders the "
        "selected time range of each selected audio track and adds '<track> - <stem>' tracks "
        "at the selection start, as one undo step.",
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
        help="longest wait for an Audacity reply once connected",
    )
    p.add_argument(
        "--busy-wait",
        type=float,
        default=3.0,
        metavar="S",
        help="how long Audacity may take to answer the first command (a busy or modal "
        "Audacity is reported after this)",
    )
    add_query_arguments(p)
    p.set_defaults(run=_run)
