"""`clapsep audacity`: isolate a sound in Audacity's current selection, stems as new tracks.

Run it (from a terminal, or from an Audacity macro's "Execute" step) while Audacity has
a time range selected on one or more audio tracks. For each selected track it exports
exactly the selection as 32-bit float (the project's own samples, no dither), renders
it and places the stems as new tracks named "<track> - <stem>" whose clips start at the
selection start, so they line up sample for sample with the source range and sum to it.
A split (`--split NAME=TEXT ...`) places one track per name plus "rest" the same way.

Labels named `target` or `remove` (any label track, case and spaces ignored) that are
regions overlapping the selection add their time, cut to the selection, as example shots
of the query's target or negative side (`JobClip.query_spans`/`negative_spans`).
Audacity's scripting cannot read the time selection, so `selection_range` aligns a
one-sample probe track to it and undoes that again.

For the panel: `--status` prints one JSON object (tracks, selection, labels) and changes
nothing; `--json` prints `{"progress": f}` lines while rendering and one `{"placed": [...]}`
line at the end. SIGTERM or SIGINT during the render stops it and places nothing (exit 130).

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
import tempfile
import time
import wave
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.host.cli.options import open_engine
from clapsep.host.cli.stopping import stop_on_signals
from clapsep.host.windowing import Cancel, Cancelled, Progress
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
# Label texts that make a label region a query span: which side of the query it feeds.
LABEL_SIDES = {"target": "query_spans", "remove": "negative_spans"}
MAX_SPANS = 8  # per side and clip, as a job allows


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
    export the track's own samples (Audacity's export applies gain, pan, mute and solo)."""
    project = tracks(pipe)
    selected = [
        (i, t) for i, t in enumerate(project) if t.get("kind") == "wave" and t.get("selected")
    ]
    if not selected:
        raise UserError("select a time range on at least one audio track in Audacity first")
    if soloed := [t["name"] for t in project if t.get("solo")]:
        them = "them" if len(soloed) > 1 else "it"
        raise UserError(
            f"solo is on for {', '.join(map(repr, soloed))}: Audacity exports only soloed "
            f"tracks, so unsolo {them}, then run again"
        )
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
            raise UserError("Audacity's Edit > Undo did not remove the staged tracks")
        pipe.command("Undo:")
        steps += 1
    return steps


def _undo_staging(pipe: AudacityPipe, count: int, state: str, limit: int) -> bool:
    """Undo staged tracks until the project has `count` tracks. True when that gave back
    exactly `state`; else the undo history was behind the project (a script changed it
    without an undo step), so the staging is redone and False returned."""
    steps = _undo_to(pipe, count, limit)
    if snapshot(pipe) == state:
        return True
    for _ in range(steps):
        pipe.command("Redo:")
    return False


def _write_probe(path: Path) -> Path:
    """A one-sample silent WAV: a track to align, cheap to import."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(48000)
        f.writeframes(b"\0\0")
    return path


def selection_range(pipe: AudacityPipe, probe_dir: Path) -> tuple[float, float] | None:
    """The time selection (start, end) in seconds, None when it is empty or there is no track.

    Scripting has no command that reads it: a one-sample probe track is aligned to the
    selection's start and end, read back and undone again; the project stays as it was.
    """
    before = tracks(pipe)
    if not before:
        return None
    first = len(before)
    user_selection = [i for i, t in enumerate(before) if t.get("selected")]
    state = snapshot(pipe)
    pipe.command("SelSave:")
    pipe.command(f"Import2: Filename={quoted(str(_write_probe(probe_dir / 'probe.wav')))}")
    if len(tracks(pipe)) != first + 1:
        _undo_to(pipe, first, 2)
        raise UserError("Audacity did not import the selection probe as one track")
    pipe.command("SelRestore:")
    select_tracks(pipe, [first])
    times = []
    for align, edge in (("Align_StartToSelStart:", "start"), ("Align_EndToSelEnd:", "end")):
        pipe.command(align)
        (clip,) = [c for c in pipe.json("GetInfo: Type=Clips Format=JSON") if c["track"] == first]
        times.append(float(clip[edge]))
    if not _undo_staging(pipe, first, state, 4):
        select_tracks(pipe, [first])
        pipe.command("RemoveTracks:")
    pipe.command("SelRestore:")
    select_tracks(pipe, user_selection)
    start, end = times
    return (start, end) if end > start else None


def query_labels(pipe: AudacityPipe) -> list[tuple[str, float, float]]:
    """(`target` or `remove`, start, end) of every label so named, in any label track."""
    found = []
    for _, labels in pipe.json("GetInfo: Type=Labels Format=JSON"):
        for start, end, text in labels:
            if (kind := str(text).strip().lower()) in LABEL_SIDES:
                found.append((kind, float(start), float(end)))
    return found


def label_spans(
    labels: Sequence[tuple[str, float, float]], selection: tuple[float, float] | None
) -> dict[str, list[list[float]]]:
    """{job clip field: [[start, end], ...]}: the label regions that overlap the selection,
    cut to it, in seconds from the selection start (the exported clip's own time)."""
    spans: dict[str, list[list[float]]] = {field: [] for field in LABEL_SIDES.values()}
    if selection is None:
        return spans
    first, last = selection
    for kind, start, end in labels:
        if end > start and start < last and end > first:
            spans[LABEL_SIDES[kind]].append([max(start, first) - first, min(end, last) - first])
    return spans


def clip_spans(pipe: AudacityPipe, work_dir: Path) -> dict[str, list[list[float]]]:
    """The spans the project's `target`/`remove` labels give every selected clip; refuses a
    point label so named inside the selection and more regions than a job takes."""
    labels = query_labels(pipe)
    if not labels:
        return label_spans(labels, None)
    selection = selection_range(pipe, work_dir)
    if selection is not None:
        for kind, start, end in labels:
            if end <= start and selection[0] <= start <= selection[1]:
                raise UserError(
                    f"the label {kind!r} at {start:g} s is a point: drag it into a region over "
                    f"the part to {'isolate' if kind == 'target' else 'remove'}, then run again"
                )
    spans = label_spans(labels, selection)
    for kind, field in LABEL_SIDES.items():
        if len(spans[field]) > MAX_SPANS:
            raise UserError(
                f"{len(spans[field])} {kind!r} label regions overlap the selection; "
                f"at most {MAX_SPANS} may"
            )
    return spans


def status(pipe: AudacityPipe, probe_dir: Path) -> dict[str, Any]:
    """What the panel shows before a render: the selected audio tracks, the time selection
    and how many `target`/`remove` label regions overlap it."""
    selection = selection_range(pipe, probe_dir)
    spans = label_spans(query_labels(pipe), selection)
    return {
        "daw": "Audacity",
        "connected": True,
        "tracks": [
            t["name"] for t in tracks(pipe) if t.get("kind") == "wave" and t.get("selected")
        ],
        "selection": None if selection is None else list(selection),
        "labels": {kind: len(spans[field]) for kind, field in LABEL_SIDES.items()},
    }


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
    if not _undo_staging(pipe, first, state, 2 * len(stems) + 1):  # keep the staging
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


def bridge(
    pipe: AudacityPipe,
    args: argparse.Namespace,
    work_dir: Path,
    progress: Progress | None = None,
    cancel: Cancel = lambda: False,
) -> list[PlacedStem]:
    """Export, render and place; returns one record per new track. `Cancelled` when
    `cancel()` turns true before the stems are placed (the project is left as it was)."""
    selected = selected_tracks(pipe)
    fields = job_fields(args)
    if fields["split"]:  # a split's stems carry their own queries; labels feed no side
        spans = label_spans([], None)
        if query_labels(pipe):
            print("note: target/remove labels are not used by a split", file=sys.stderr)
    else:
        spans = clip_spans(pipe, work_dir)
        if any(spans.values()) and not (fields["query"] or fields["preset"]):
            fields["query"] = {"name": "labels"}  # the labels are the whole query
    exported = export_selection(pipe, selected, work_dir)
    clips = [
        {"id": str(index), "source": str(path), "position": 0.0, "track": track["name"], **spans}
        for (index, track), path in zip(selected, exported, strict=True)
    ]
    spec = parse_job({**fields, "clips": clips})
    if progress is not None:
        progress(0.0)
    results = run_job(open_engine(args), spec, work_dir / "stems", progress, cancel)
    if cancel():
        raise Cancelled("render cancelled")
    if failed := [r for r in results if r.error]:
        raise UserError(f"track {failed[0].track!r}: {failed[0].error}")
    stems = [
        StemFile(f"{result.track} - {stem.stem}", Path(stem.path))
        for result in results
        for stem in result.stems
    ]
    return place_stems(pipe, stems)


class JsonProgress:
    """Prints `{"progress": f}` lines, each larger than the last (a panel draws a bar)."""

    def __init__(self) -> None:
        self.last = -1.0

    def __call__(self, fraction: float) -> None:
        value = round(min(max(fraction, 0.0), 1.0), 3)
        if value > self.last:
            self.last = value
            print(json.dumps({"progress": value}), flush=True)


def _run(args: argparse.Namespace) -> int:
    connection = AudacityPipe(timeout=args.timeout)
    if args.status:
        with connection.connect(wait=args.busy_wait) as pipe, tempfile.TemporaryDirectory() as d:
            print(json.dumps(status(pipe, Path(d))))
        return 0
    # Absolute: Audacity resolves an export path against its own working folder.
    work = (
        Path(args.work_dir).expanduser().resolve()
        if args.work_dir
        else user_data_dir() / "audacity"
    )
    # Every signal is deferred: a command cut off mid-reply would leave the pipe and the
    # project half done. The render polls the flag; placing, once begun, finishes.
    with stop_on_signals() as stop, stop.deferred():
        try:
            with connection.connect(wait=args.busy_wait) as pipe:
                placed = bridge(
                    pipe,
                    args,
                    work / time.strftime("%Y%m%d-%H%M%S"),
                    JsonProgress() if args.json else None,
                    stop,
                )
        except Cancelled:
            print("cancelled", file=sys.stderr)
            return 130
    if args.json:
        records = [
            {"name": p.name, "track": p.track, "start": p.start, "end": p.end, "path": str(p.path)}
            for p in placed
        ]
        print(json.dumps({"placed": records}), flush=True)
    else:
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
    p.add_argument(
        "--status",
        action="store_true",
        help="print the selected tracks, the selection and the target/remove label count as "
        "one JSON object and change nothing",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"progress": f} lines while rendering and one {"placed": [...]} line',
    )
    add_query_arguments(p)
    p.set_defaults(run=_run)
