"""Held-out evaluation material from a corpus table (`clips.csv`, validation split only).

`build_eval_list` makes the model card's mixture list: label-balanced targets, each mixed
with an interferer of another *category*, so the query names one of two sounds of
different kinds (two voices, say, are another task). `ShotPool` picks the audio
examples of the audio-query modes: other validation clips of the target's label, never
the target's own file, other recordings (`group`) first.
"""

import csv
import os
import random
from dataclasses import dataclass
from pathlib import Path

from model.data.catalog import DEFAULT_TEMPLATE
from model.evaluation.mixtures import MixtureItem

VAL_SPLIT = "val"


@dataclass(frozen=True)
class TableClip:
    path: str  # relative to the table's folder
    label: str
    category: str
    caption: str
    group: str


def read_val_clips(table: Path) -> list[TableClip]:
    """The `split == "val"` rows; a missing category falls back to the label, a missing
    caption to the training template, a missing group to the file."""
    table = Path(table)
    with table.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "label", "split"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{table}: not a corpus table, missing column(s) {', '.join(sorted(missing))}")
        rows = [row for row in reader if (row.get("split") or "").strip() == VAL_SPLIT]
    clips = []
    for row in rows:
        path, label = row["path"].strip(), row["label"].strip()
        if Path(path).is_absolute():
            path = os.path.relpath(path, table.parent)
        clips.append(TableClip(Path(path).as_posix(), label, (row.get("category") or "").strip() or label,
                               (row.get("caption") or "").strip() or DEFAULT_TEMPLATE.format(label=label),
                               (row.get("group") or "").strip() or path))
    return clips


def _grouped(clips: list[TableClip], column: str) -> dict[str, list[TableClip]]:
    """Clips by a column's value, in path order (so seeded picks do not depend on row order)."""
    groups: dict[str, list[TableClip]] = {}
    for clip in sorted(clips, key=lambda c: c.path):
        groups.setdefault(getattr(clip, column), []).append(clip)
    return groups


def build_eval_list(clips: list[TableClip], items: int, seed: int = 0, snr_db: float = 0.0) -> list[MixtureItem]:
    """`items` mixtures, labels taken round-robin in a seeded order (every usable label once
    before any repeats, a label's clips in a seeded order too); each interferer is a clip
    of a seeded label of another category, label first so that the corpus's largest
    category (speech) does not make nearly every interferer. Labels of a category with no other category
    to mix with cannot be used and are left out."""
    rng = random.Random(seed)
    by_label = _grouped(clips, "label")
    others = {cat: sorted({c.label for c in clips if c.category != cat}) for cat in {c.category for c in clips}}
    order = sorted(label for label, members in by_label.items() if any(others[c.category] for c in members))
    if not order:
        raise ValueError("no validation clip has an interferer of another category")
    rng.shuffle(order)
    pools = {label: [c for c in by_label[label] if others[c.category]] for label in order}
    for pool in pools.values():
        rng.shuffle(pool)
    mixtures = []
    for n in range(items):
        label = order[n % len(order)]
        target = pools[label][(n // len(order)) % len(pools[label])]
        noise = rng.choice(by_label[rng.choice(others[target.category])])
        mixtures.append(MixtureItem(target.path, target.caption, noise.path, noise.caption, snr_db, target.label))
    return mixtures


class ShotPool:
    """Audio-query examples for a mixture: validation clips of the target's label."""

    def __init__(self, table: Path, seed: int = 0) -> None:
        self.table, self.seed = Path(table), seed
        root = self.table.parent
        self.by_label: dict[str, list[tuple[Path, TableClip]]] = {}
        self.by_file: dict[Path, TableClip] = {}
        for clip in sorted(read_val_clips(self.table), key=lambda c: c.path):
            file = (root / clip.path).resolve()
            self.by_label.setdefault(clip.label, []).append((file, clip))
            self.by_file[file] = clip

    def shots(self, item: MixtureItem, audio_root: Path, k: int) -> list[Path]:
        """Up to `k` files (fewer when the label has fewer other clips). The choice is seeded
        by the source alone, so `k = 1` takes the first of what `k = 5` takes."""
        source = (Path(audio_root) / item.source).resolve()
        own = self.by_file.get(source)
        label = item.label or (own.label if own else None)
        candidates = [(file, clip) for file, clip in self.by_label.get(label or "", []) if file != source]
        random.Random(f"{self.seed}:{item.source}").shuffle(candidates)
        own_group = own.group if own else None
        candidates.sort(key=lambda fc: fc[1].group == own_group)  # stable: other recordings first
        return [file for file, _ in candidates[:k]]
