"""Jobs that DAWs send through the bridge's render service, shown in the panel's clip list.

The panel must not import `plugin_bridge`, so it reads the service's job store on a
QTimer: one JSON file per job in `user_data_dir()/service-jobs`, rewritten atomically at
each state change (`{"id", "status", "spec": {"clips": [{"source", "source_in",
"source_out", ...}]}, "clips": [{"stems": [{"stem", "path", "frames", ...}], "error"}]}`).
Each job clip becomes a panel clip; once the job is done its stems become results, so
the before/after view and A/B work on them. `JobSource` is the whole interface: polling
the service's HTTP API instead would be one more small class.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from clapsep.host.audio_io import Section
from clapsep.host.render import RenderedStem
from clapsep.paths import user_data_dir
from clapsep.ui.render_worker import PanelClip, PanelClipResult

POLL_MS = 1000


def default_job_dir() -> Path:
    return user_data_dir() / "service-jobs"


@dataclass(frozen=True)
class BridgeClip:
    """A clip of a bridge job, its job's status, and its stems once rendered."""

    clip: PanelClip
    status: str
    result: PanelClipResult | None


class JobSource(Protocol):
    def poll(self) -> list[BridgeClip]:
        """Clips of jobs that are new or whose status changed since the last poll."""


def job_clips(record: Any) -> list[BridgeClip]:
    """The clips of one job record; [] for anything that is not one."""
    spec = record.get("spec") if isinstance(record, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("clips"), list):
        return []
    status = str(record.get("status", "queued"))
    results = record.get("clips") if isinstance(record.get("clips"), list) else []
    found = []
    for index, item in enumerate(spec["clips"]):
        if not isinstance(item, dict) or not isinstance(item.get("source"), str):
            continue
        start, end = float(item.get("source_in") or 0), item.get("source_out")
        section = (
            Section(start, None if end is None else float(end))
            if start or end is not None
            else None
        )
        clip = PanelClip(Path(item["source"]), section, origin="bridge")
        stems = (
            results[index].get("stems")
            if index < len(results) and isinstance(results[index], dict)
            else None
        )
        result = None
        if status == "done" and stems:
            result = PanelClipResult(
                clip,
                tuple(
                    RenderedStem(
                        clip.path,
                        s["stem"],
                        Path(s["path"]),
                        s["frames"],
                        s["sample_rate"],
                        s["channels"],
                    )
                    for s in stems
                ),
                False,
            )
        found.append(BridgeClip(clip, status, result))
    return found


class JobFolder:
    """Reads the job store folder; reports each job again only when its status changes."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_job_dir()
        self._status: dict[str, str] = {}

    def poll(self) -> list[BridgeClip]:
        found = []
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                clips = job_clips(record)
            except (
                OSError,
                UnicodeDecodeError,
                json.JSONDecodeError,
                KeyError,
                TypeError,
                ValueError,
            ):
                continue  # not a readable job record: skipped, tried again next time
            status = clips[0].status if clips else ""
            if clips and self._status.get(path.name) != status:
                self._status[path.name] = status
                found += clips
        return found


class JobWatcher(QObject):
    """Polls a `JobSource` on a timer and emits `arrived(list[BridgeClip])`."""

    arrived = pyqtSignal(list)

    def __init__(self, source: JobSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        self.check()
        self.timer.start()

    def check(self) -> None:
        if clips := self.source.poll():
            self.arrived.emit(clips)
