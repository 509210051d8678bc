"""Clip catalogues: what a dataset may draw from, read from the layouts people already have.

- caption CSV in the AudioCaps layout: `file_name,caption[,more captions...]` (the first
  column is the path, every further non-empty column another caption);
- labelled single-source clips: the corpus `clips.csv` (path, label, category, caption,
  split, group, ...), any CSV with `path,label`, or a folder tree `ROOT/<label>/<file>`; a clip
  without a caption is described by a template, "the sound of {label}" by default;
- natural mixtures for weak supervision: a caption CSV as above.
"""

import csv
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from clapsep.model.data.audio import AUDIO_SUFFIXES

DEFAULT_TEMPLATE = "the sound of {label}"


@dataclass(frozen=True)
class Clip:
    path: Path
    captions: tuple[str, ...]
    label: str | None = None
    split: str | None = None
    group: str | None = None
    category: str | None = None  # the corpus's coarser class (speech, animals, ...)

    @property
    def family(self) -> str:
        """What two clips must not share to be mixed as target and interferer."""
        return self.label or self.captions[0]


def read_caption_csv(path: Path, root: Path | None = None) -> list[Clip]:
    """AudioCaps layout: header row, then path and one or more captions per row."""
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    clips = []
    for row in rows[1:]:
        captions = tuple(c.strip() for c in row[1:] if c.strip())
        if row and row[0].strip() and captions:
            clips.append(Clip(root / row[0].strip(), captions))
    return clips


def read_labelled(
    source: Path,
    template: str = DEFAULT_TEMPLATE,
    root: Path | None = None,
    required: Collection[str] = (),
) -> list[Clip]:
    """Labelled single-source clips from a `clips.csv`-style table or a `<label>/<file>` tree.

    A table must have `path` and `label` columns, plus the `required` ones.
    """
    source = Path(source)
    if source.is_dir():
        return [
            Clip(f, (template.format(label=f.parent.name),), label=f.parent.name)
            for f in sorted(source.rglob("*"))
            if f.suffix.lower() in AUDIO_SUFFIXES and f.parent != source
        ]
    root = Path(root) if root is not None else source.parent
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    missing = set(required) - set(reader.fieldnames or [])
    if missing:
        raise ValueError(
            f"{source}: not a corpus table, missing column(s) {', '.join(sorted(missing))}"
        )
    if rows and not {"path", "label"} <= set(rows[0]):
        raise ValueError(f"{source}: a labelled-clip table needs 'path' and 'label' columns")
    clips = []
    for row in rows:
        label = row["label"].strip()
        clips.append(
            Clip(
                root / row["path"].strip(),
                (_cell(row, "caption") or template.format(label=label),),
                label=label,
                split=_cell(row, "split"),
                group=_cell(row, "group"),
                category=_cell(row, "category"),
            )
        )
    return clips


def _cell(row: dict[str, str | None], column: str) -> str | None:
    """An optional column's stripped value; empty or absent is None."""
    return (row.get(column) or "").strip() or None


def split_clips(clips: list[Clip], val_fraction: float = 0.05) -> tuple[list[Clip], list[Clip]]:
    """(train, val): the table's own split column when it has one, else every n-th clip.

    Clips of one `group` (one source recording) always land on the same side. Any other
    split (the corpus's held-out `test` sources) is in neither.
    """
    if any(c.split for c in clips):
        return [c for c in clips if c.split in (None, "train")], [
            c for c in clips if c.split == "val"
        ]
    if val_fraction <= 0:
        return list(clips), []
    every = max(2, round(1 / val_fraction))
    keys = sorted({c.group or str(c.path) for c in clips})
    held = set(keys[::every])
    return (
        [c for c in clips if (c.group or str(c.path)) not in held],
        [c for c in clips if (c.group or str(c.path)) in held],
    )
