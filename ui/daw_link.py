"""The panel's link to Audacity: `clapsep audacity` in a child process, never the pipe itself.

The ui never imports `plugin_bridge`: it runs `clapsep audacity --status` to learn what
Audacity has selected and `clapsep audacity --preset NAME --json` to render the selection,
whose JSON lines feed the progress bar and name the stem tracks it placed. The child reads
the preset library from the same user data folder as the panel (it inherits
`CLAPSEP_DATA_DIR`), so a preset name means the same preset on both sides.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clapsep.errors import UserError
from clapsep.host.engine import Engine
from clapsep.ui.render_args import audacity_command
from clapsep.ui.render_worker import Reporter, engine_flags, run_child


@dataclass(frozen=True)
class DawStatus:
    """What `clapsep audacity --status` said: the DAW, its selected tracks and time range."""

    connected: bool
    daw: str = "Audacity"
    tracks: tuple[str, ...] = ()
    selection: tuple[float, float] | None = None
    labels: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""  # why it is not connected, in the command's words

    def describe(self) -> str:
        """One line for the panel's DAW label."""
        if not self.connected:
            return f"{self.daw}: not connected ({self.reason})"
        if not self.tracks or self.selection is None:
            return f"{self.daw}: connected, nothing selected"
        start, end = self.selection
        marks = ", ".join(f"{n} {kind}" for kind, n in self.labels.items() if n)
        return f"{self.daw}: connected · {', '.join(self.tracks)} · {start:g}–{end:g} s" + (
            f" · labels: {marks}" if marks else ""
        )


@dataclass(frozen=True)
class PlacedStem:
    """One stem track `clapsep audacity` added: its track name, where it sits, its file."""

    name: str
    track: int
    start: float
    end: float
    path: Path


def daw_status(report: Reporter) -> DawStatus:
    """Ask Audacity (through `clapsep audacity --status`) what is selected; a DAW that does
    not answer is a status, not an error."""
    try:
        out = run_child(audacity_command(None), report)
    except UserError as exc:
        return DawStatus(connected=False, reason=str(exc).removeprefix("clapsep audacity: "))
    data = json.loads("".join(out))
    selection = data.get("selection")
    return DawStatus(
        connected=bool(data.get("connected")),
        daw=data.get("daw", "Audacity"),
        tracks=tuple(data.get("tracks") or ()),
        selection=(float(selection[0]), float(selection[1])) if selection else None,
        labels=dict(data.get("labels") or {}),
    )


def render_selection(preset: str, engine: Engine | None, report: Reporter) -> list[PlacedStem]:
    """Check the connection, then render Audacity's selection with the library preset
    `preset` and return the stem tracks placed.

    The status goes out first as a partial result (the panel's label shows it); a DAW
    that is not connected or has nothing selected stops here, before a model loads.
    """
    status = daw_status(report)
    report.partial(status)
    if not status.connected:
        raise UserError(
            f"not connected to {status.daw} ({status.reason}); start it with mod-script-pipe "
            "enabled (docs/daw.md)"
        )
    if not status.tracks or status.selection is None:
        raise UserError(f"select a time range on an audio track in {status.daw} first")
    placed: list[PlacedStem] = []

    def line(text: str) -> None:
        if not text.strip():
            return
        record = json.loads(text)
        if "progress" in record:
            report.progress(float(record["progress"]))
        for p in record.get("placed", ()):
            placed.append(PlacedStem(p["name"], p["track"], p["start"], p["end"], Path(p["path"])))

    run_child(audacity_command(preset, engine_flags(engine)), report, line)
    report.progress(1.0)
    return placed
