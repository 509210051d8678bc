"""Held-out evaluation material from a corpus table (`clips.csv`): one split, never `train`.

`val` is the validation split of the training packages (other recordings of sources the
model trained on); `test` holds the held-out packages, whole sources the model never
heard. `build_eval_list` makes the model card's mixture lists: label-balanced targets
(optionally of one category: real speech), each mixed with one or more interferers of
other *categories*, so the query names one of sounds of different kinds (two voices,
say, are another task). `ShotPool` picks the audio examples of the audio-query modes:
other clips of the target's label in the target's split, never the target's own file,
other recordings (`group`) first.
"""

import os
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from clapsep.model.data.catalog import Clip, read_labelled
from clapsep.model.evaluation.mixtures import NOISE_SEPARATOR, MixtureItem

VAL_SPLIT = "val"
HELDOUT_SPLITS = ("val", "test")


def read_held_out_clips(table: Path) -> list[Clip]:
    """The `val` and `test` clips of a corpus table, paths relative to the table's folder
    (`model.data.catalog.read_labelled`: a missing caption is the training template)."""
    table = Path(table)
    clips = read_labelled(table, root=Path(), required=("path", "label", "split"))
    return [
        replace(
            c, path=Path(os.path.relpath(c.path, table.parent)) if c.path.is_absolute() else c.path
        )
        for c in clips
        if c.split in HELDOUT_SPLITS
    ]


def read_val_clips(table: Path, split: str = VAL_SPLIT) -> list[Clip]:
    """The clips of one held-out split of a corpus table (`read_held_out_clips`)."""
    if split not in HELDOUT_SPLITS:
        raise ValueError(
            f"held-out split must be one of {', '.join(HELDOUT_SPLITS)}, not {split!r}"
        )
    return [c for c in read_held_out_clips(table) if c.split == split]


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


def build_eval_list(
    clips: list[Clip],
    items: int,
    seed: int = 0,
    snr_db: float = 0.0,
    target_category: str | None = None,
    interferers: int = 1,
) -> list[MixtureItem]:
    """`items` mixtures, labels taken round-robin in a seeded order (every usable label once
    before any repeats, a label's clips in a seeded order too); each interferer is a clip
    of a seeded label of another category, label first so that the corpus's largest
    category (speech) does not make nearly every interferer. Labels of a category with no
    other category to mix with cannot be used and are left out. `target_category` keeps
    only targets of that category; `interferers` > 1 makes mixtures of more sources
    (interferers of distinct labels, summed before the SNR is set, as in training)."""
    if interferers < 1:
        raise ValueError("a mixture needs at least one interferer")
    rng = random.Random(seed)
    by_label = _grouped(clips, lambda c: c.label or "")
    categories = {_category(c) for c in clips}
    others = {
        cat: sorted({c.label or "" for c in clips if _category(c) != cat}) for cat in categories
    }
    order = sorted(
        label
        for label, members in by_label.items()
        if any(others[_category(c)] for c in members)
        and (target_category is None or _category(members[0]) == target_category)
    )
    if not order:
        raise ValueError(
            "no held-out clip has an interferer of another category"
            + (f" among {target_category!r} targets" if target_category else "")
        )
    rng.shuffle(order)
    pools = {label: [c for c in by_label[label] if others[_category(c)]] for label in order}
    for pool in pools.values():
        rng.shuffle(pool)
    mixtures = []
    for n in range(items):
        label = order[n % len(order)]
        target = pools[label][(n // len(order)) % len(pools[label])]
        candidates = others[_category(target)]
        # (sampling one label draws exactly as `rng.choice`: lists made before several were
        # possible stay)
        labels = rng.sample(candidates, min(interferers, len(candidates)))
        noises = [rng.choice(by_label[label]) for label in labels]
        mixtures.append(
            MixtureItem(
                _file(target),
                target.captions[0],
                NOISE_SEPARATOR.join(map(_file, noises)),
                " and ".join(n.captions[0] for n in noises),
                snr_db,
                target.label,
            )
        )
    return mixtures


class ShotPool:
    """Audio-query examples for a mixture: held-out clips of the target's label and split."""

    def __init__(self, table: Path, seed: int = 0) -> None:
        self.table, self.seed = Path(table), seed
        root = self.table.parent
        self.by_label: dict[tuple[str, str], list[tuple[Path, Clip]]] = {}
        self.by_file: dict[Path, Clip] = {}
        for clip in sorted(read_held_out_clips(self.table), key=_file):
            file = (root / clip.path).resolve()
            self.by_label.setdefault((clip.split or VAL_SPLIT, clip.label or ""), []).append(
                (file, clip)
            )
            self.by_file[file] = clip

    def shots(self, item: MixtureItem, audio_root: Path, k: int) -> list[Path]:
        """Up to `k` files (fewer when the label has fewer other clips). The choice is seeded
        by the source alone, so `k = 1` takes the first of what `k = 5` takes."""
        source = (Path(audio_root) / item.source).resolve()
        own = self.by_file.get(source)
        label = item.label or (own.label if own else None)
        split = own.split if own and own.split else VAL_SPLIT
        candidates = [
            (file, clip)
            for file, clip in self.by_label.get((split, label or ""), [])
            if file != source
        ]
        random.Random(f"{self.seed}:{item.source}").shuffle(candidates)
        own_group = _recording(own) if own else None
        candidates.sort(
            key=lambda fc: _recording(fc[1]) == own_group
        )  # stable: other recordings first
        return [file for file, _ in candidates[:k]]
