"""The build state of a corpus folder: its settings and one record per processed source.

`manifest.jsonl` is appended (and flushed) after a source's clips are on disk, so a
build killed at any moment resumes where it stopped: a source is done when its last
record is final and its clips exist. Records hold only what processing found (clips,
native rate, licence, why a file was dropped); labels, captions and splits are
recomputed from the table each run, so fixing the table never needs a rebuild.
`corpus.json` pins the settings that shape the audio; reusing a folder with other
settings is refused instead of mixing two corpora.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clapsep.errors import UserError

FORMAT = 1
# A clip being written (`clapsep.files.temp_path` names it `.<stem>.<id>.part.wav`).
PARTIAL_CLIPS = ".*.part.wav"
FINAL_SKIPS = frozenset(
    {"clipping", "silent", "empty", "no_usable_audio"}
)  # re-reading changes nothing


@dataclass(frozen=True)
class ClipFile:
    path: str  # relative to the corpus folder
    duration_s: float


@dataclass(frozen=True)
class Record:
    key: str
    package: str
    source_file: str
    status: str  # "ok", "skipped" (with a final reason) or "failed" (retried next run)
    reason: str = ""
    native_sr: int = 0
    licence: str = ""
    clips: tuple[ClipFile, ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(line: str) -> "Record":
        data = json.loads(line)
        data["clips"] = tuple(ClipFile(**c) for c in data.get("clips", ()))
        return Record(**data)


class Manifest:
    """Settings check, resume lookups and appending records for one corpus folder."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.root = root
        self.settings = {"format": FORMAT, **settings}
        self.records: dict[str, Record] = {}
        self._path = root / "manifest.jsonl"

    def open(self) -> None:
        """Create or check the folder, and load earlier records (the last one per source wins)."""
        self.root.mkdir(parents=True, exist_ok=True)
        settings_path = self.root / "corpus.json"
        if settings_path.exists():
            existing = json.loads(settings_path.read_text())
            if existing != self.settings:
                changed = sorted(
                    k
                    for k in {*existing, *self.settings}
                    if existing.get(k) != self.settings.get(k)
                )
                raise UserError(
                    f"{self.root} holds a corpus built with other settings ({', '.join(changed)}); "
                    "use another --out or the same settings"
                )
        else:
            settings_path.write_text(json.dumps(self.settings, indent=2) + "\n")
        if self._path.exists():
            with open(self._path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        record = Record.from_json(line)
                        self.records[record.key] = record
        for partial in (self.root / "clips").rglob(PARTIAL_CLIPS):
            partial.unlink()  # left by an interrupted write; its source is redone

    def done(self, key: str) -> bool:
        """True when the source needs no more work: finished and its clips are all on disk."""
        record = self.records.get(key)
        if record is None:
            return False
        if record.status == "skipped":
            return record.reason in FINAL_SKIPS
        return record.status == "ok" and all((self.root / c.path).exists() for c in record.clips)

    def add(self, record: Record) -> None:
        self.records[record.key] = record
        with open(self._path, "a", encoding="utf-8") as f:
            f.write(record.to_json() + "\n")
            f.flush()
            os.fsync(f.fileno())
