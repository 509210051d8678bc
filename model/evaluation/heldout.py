"""Held-out evaluation material from a corpus table (`clips.csv`, validation split only).

`build_eval_list` makes the model card's mixture list: label-balanced targets, each mixed
with an interferer of another *category*, so the query names one of two sounds of
different kinds (two voices, say, are another task). `ShotPool` picks the audio
examples of the audio-query modes: other validation clips of the target's label, never
the target's own file, other recordings (`group`) first.
"""

import os
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from model.data.catalog import Clip, read_labelled
from model.evaluation.mixtures import MixtureItem

VAL_SPLIT = "val"


def read_val_clips(table: Path) -> list[Clip]:
    """The `split == "val"` clips of a corpus table, paths relative to the table's folder
    (`model.data.catalog.read_labelled`: a missing caption is the training template)."""
    table = Path(table)
    clips = read_labelled(table, root=Path(), required=("path", "label", "split"))
    return [replace(c, path=Path(os.path.relpath(c.path, table.parent)) if c.path.is_absolute() else c.path)
            for c in clips if c.split == VAL_SPLIT]


def _file(clip: Clip) -> str:
    return clip.path.as_posix()


def _category(clip: Clip) -> str:
    """A clip without a category is a category of its own label."""
    return clip.category or clip.label or ""


def _recording(clip: Clip) -> str:
    """A clip without a group is a recording of its own."""
    return clip.group or _file(clip)


def _grouped(clips: list[Clip], key: Callable[[Clip], str]) -> dict[str, list[Clip]]:
    """Clips by `key`, in path order (so seeded picks do not depend on row order)."""
    groups: dict[str, list[Clip]] = {}
    for clip in sorted(clips, key=_file):
        groups.setdefault(key(clip), []).append(clip)
    return groups


def build_eval_list(clips: list[Clip], items: int, seed: int = 0, snr_db: float = 0.0) -> list[MixtureItem]:
    """`items` mixtures, labels taken round-robin in a seeded order (every usable label once
    before any repeats, a label's clips in a seeded order too); each interferer is a clip
    of a seeded label of another category, label first so that the corpus's largest
    category (speech) does not make nearly every interferer. Labels of a category with no other category
    to mix with cannot be used and are left out."""
    rng = random.Random(seed)
    by_label = _grouped(clips, lambda c: c.label or "")
    categories = {_category(c) for c in clips}
    others = {cat: sorted({c.label or "" for c in clips if _category(c) != cat}) for cat in categories}
    order = sorted(label for label, members in by_label.items() if any(others[_category(c)] for c in members))
    if not order:
        raise ValueError("no validation clip has an interferer of another category")
    rng.shuffle(order)
    pools = {label: [c for c in by_label[label] if others[_category(c)]] for label in order}
    for pool in pools.values():
        rng.shuffle(pool)
    mixtures = []
    for n in range(items):
        label = order[n % len(order)]
        target = pools[label][(n // len(order)) % len(pools[label])]
        noise = rng.choice(by_label[rng.choice(others[_category(target)])])
        mixtures.append(MixtureItem(_file(target), target.captions[0], _file(noise), noise.captions[0], snr_db,
                                    target.label))
    return mixtures


class ShotPool:
    """Audio-query examples for a mixture: validation clips of the target's label."""

    def __init__(self, table: Path, seed: int = 0) -> None:
        self.table, self.seed = Path(table), seed
        root = self.table.parent
        self.by_label: dict[str, list[tuple[Path, Clip]]] = {}
        self.by_file: dict[Path, Clip] = {}
        for clip in sorted(read_val_clips(self.table), key=_file):
            file = (root / clip.path).resolve()
            self.by_label.setdefault(clip.label or "", []).append((file, clip))
            self.by_file[file] = clip

    def shots(self, item: MixtureItem, audio_root: Path, k: int) -> list[Path]:
        """Up to `k` files (fewer when the label has fewer other clips). The choice is seeded
        by the source alone, so `k = 1` takes the first of what `k = 5` takes."""
        source = (Path(audio_root) / item.source).resolve()
        own = self.by_file.get(source)
        label = item.label or (own.label if own else None)
        candidates = [(file, clip) for file, clip in self.by_label.get(label or "", []) if file != source]
        random.Random(f"{self.seed}:{item.source}").shuffle(candidates)
        own_group = _recording(own) if own else None
        candidates.sort(key=lambda fc: _recording(fc[1]) == own_group)  # stable: other recordings first
        return [file for file, _ in candidates[:k]]
