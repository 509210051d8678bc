"""`clapsep otio`: render the clips of a timeline's audio tracks and add stem tracks to it.

For DaVinci Resolve (which reads and writes .otio) and any editor with an OTIO adapter.
Every clip of the chosen audio tracks becomes a job clip: its file is the media
reference's path, its section the clip's source range taken relative to the media's
available range (a reference that starts at a timecode such as 01:00:00:00 still
starts at frame 0 of the file), its position where the track places it. The output
timeline is the input plus one new track per source track and stem, whose clips sit at
exactly the original positions (gaps in whole samples at the stem's rate), each with
the query in its metadata. The input timeline is never modified.

A clip's markers named `target` or `remove` (any case) over a range of it are query spans:
that moment of the clip's own media becomes an audio example of what to keep or to remove.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.host.cli.options import open_engine
from clapsep.plugin_bridge.jobs import JobClipResult, parse_job, run_job
from clapsep.plugin_bridge.options import add_query_arguments, job_fields

METADATA_KEY = "clapsep"
SPAN_MARKERS = {"target": "query_spans", "remove": "negative_spans"}  # marker name: job field


def _otio() -> Any:
    import opentimelineio

    return opentimelineio


def chosen_tracks(timeline: Any, names: list[str]) -> list[Any]:
    """The audio tracks named (all audio tracks when no name is given)."""
    tracks = timeline.audio_tracks()
    if not names:
        if not tracks:
            raise UserError("the timeline has no audio tracks")
        return tracks
    by_name = {t.name: t for t in tracks}
    if missing := [n for n in names if n not in by_name]:
        raise UserError(
            f"no audio track named {', '.join(missing)}; audio tracks: "
            f"{', '.join(by_name) or 'none'}"
        )
    return [by_name[n] for n in names]


def media_origin(clip: Any) -> float:
    """Seconds of the clip's media time at the file's first sample (e.g. a 01:00:00:00 start)."""
    ref = clip.media_reference
    return ref.available_range.start_time.to_seconds() if ref.available_range else 0.0


def clip_source(clip: Any, base: Path) -> tuple[str, float, float]:
    """(file path, section start, section end in seconds of the file) of an OTIO clip."""
    otio = _otio()
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        raise UserError(f"clip {clip.name!r} has no external media file")
    url = ref.target_url
    path = Path(otio.url_utils.filepath_from_url(url) if "://" in url else url)
    path = path if path.is_absolute() else base / path
    trimmed = clip.trimmed_range()
    start = trimmed.start_time.to_seconds() - media_origin(clip)
    return str(path), start, start + trimmed.duration.to_seconds()


def marker_spans(clip: Any) -> dict[str, list[list[float]]]:
    """The clip's `target`/`remove` markers as spans in seconds of its media file."""
    origin = media_origin(clip)
    spans: dict[str, list[list[float]]] = {"query_spans": [], "negative_spans": []}
    for marker in clip.markers:
        kind = SPAN_MARKERS.get(marker.name.strip().lower())
        if kind is None:
            continue
        marked = marker.marked_range
        if marked.duration.value <= 0:
            raise UserError(
                f"clip {clip.name!r}: marker {marker.name!r} marks a point; give it a duration"
            )
        start = marked.start_time.to_seconds() - origin
        spans[kind].append([max(start, 0.0), start + marked.duration.to_seconds()])
    return spans


def timeline_clips(tracks: list[Any], base: Path) -> list[dict[str, Any]]:
    """Job clips for every clip of `tracks`; ids are `<track>/<clip index in track>`."""
    otio = _otio()
    clips = []
    for t_index, track in enumerate(tracks):
        for c_index, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip) or not item.enabled:
                continue
            source, start, end = clip_source(item, base)
            clips.append(
                {
                    "id": f"{t_index}/{c_index}",
                    "source": source,
                    "source_in": start,
                    "source_out": end,
                    "position": track.range_of_child(item).start_time.to_seconds(),
                    "track": track.name,
                    **marker_spans(item),
                }
            )
    if not clips:
        raise UserError("the chosen audio tracks hold no clips")
    return clips


def add_stem_tracks(
    timeline: Any, tracks: list[Any], results: list[JobClipResult], query: dict[str, Any]
) -> None:
    """One new audio track per source track and stem, clips at the original positions."""
    otio = _otio()
    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    for t_index, track in enumerate(tracks):
        mine = [r for r in results if r.id.startswith(f"{t_index}/") and not r.error]
        for stem in dict.fromkeys(s.stem for r in mine for s in r.stems):
            new = otio.schema.Track(f"{track.name} - {stem}", kind=otio.schema.TrackKind.Audio)
            cursor = rt(0, 1)  # end of the last item; stems of one track may differ in rate
            for result in mine:
                source_clip = track[int(result.id.split("/")[1])]
                out = next(s for s in result.stems if s.stem == stem)
                rate = out.sample_rate
                start = round(track.range_of_child(source_clip).start_time.rescaled_to(rate).value)
                if (gap := start - round(cursor.rescaled_to(rate).value)) > 0:
                    new.append(otio.schema.Gap(source_range=tr(rt(0, rate), rt(gap, rate))))
                whole = tr(rt(0, rate), rt(out.frames, rate))
                new.append(
                    otio.schema.Clip(
                        f"{source_clip.name} {stem}",
                        media_reference=otio.schema.ExternalReference(
                            otio.url_utils.url_from_filepath(out.path), whole
                        ),
                        source_range=whole,
                        metadata={
                            METADATA_KEY: {
                                "stem": stem,
                                "query": query,
                                "source_clip": source_clip.name,
                                "source_track": track.name,
                            }
                        },
                    )
                )
                cursor = rt(start + out.frames, rate)
            timeline.tracks.append(new)


def _run(args: argparse.Namespace) -> int:
    otio = _otio()
    source, out = Path(args.input).expanduser(), Path(args.out).expanduser()
    if not source.is_file():
        raise UserError(f"timeline not found: {source}")
    if out.resolve() == source.resolve():
        raise UserError("--out must differ from the input timeline; the input is never modified")
    try:
        timeline = otio.adapters.read_from_file(str(source))
    except Exception as exc:  # OTIO raises many types for unreadable files
        raise UserError(f"cannot read timeline {source}: {exc}") from None
    tracks = chosen_tracks(timeline, args.track)
    fields = job_fields(args)
    spec = parse_job({**fields, "clips": timeline_clips(tracks, source.parent)})
    stems_dir = (
        Path(args.stems_dir).expanduser() if args.stems_dir else out.with_name(f"{out.stem}-stems")
    )
    engine = open_engine(args)
    results = run_job(engine, spec, stems_dir)
    for r in results:
        if r.error:
            print(f"clip {r.id} on {r.track}: {r.error}", file=sys.stderr)
    add_stem_tracks(
        timeline,
        tracks,
        results,
        {
            "preset": fields["preset"],
            "query": fields["query"],
            "provider": engine.provider,
            "model": engine.package.name,
        },
    )
    otio.adapters.write_to_file(timeline, str(out))
    print(out)
    return 2 if any(r.error for r in results) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "otio",
        help="render the audio clips of an OpenTimelineIO timeline into new stem tracks",
        description="Render every clip of the chosen audio tracks of IN (.otio, e.g. from "
        "DaVinci Resolve) and write OUT: the same timeline plus one track per source track and "
        "stem, clips at the original positions.",
    )
    p.add_argument(
        "input", metavar="IN", help="timeline (.otio, or any format an installed adapter reads)"
    )
    p.add_argument("--out", required=True, metavar="OUT", help="timeline to write (.otio)")
    p.add_argument(
        "--track",
        action="append",
        default=[],
        metavar="NAME",
        help="audio track to render (repeatable; default: every audio track)",
    )
    p.add_argument(
        "--stems-dir", metavar="DIR", help="where stems go (default: OUT-stems beside OUT)"
    )
    add_query_arguments(p)
    p.set_defaults(run=_run)
