"""Train / validation split by group: a source file, or a speaker, voice pack or timbre.

A group lands in validation when a seeded hash of its name falls under the share.
Groups are few and uneven for speech (one Tux Paint reader is 900 files), and some
empty out when their files turn out to clip, so a correction per label follows,
weighted by group size (clips, or an estimate before processing):

- more than twice the share in validation: the validation groups with the highest
  hashes go back to training, while one remains;
- at least `MIN_GROUPS_FOR_VAL` non-empty groups but no validation: the training
  group closest in size to the share moves to validation;
- nothing left in training: the largest-hash group moves back.

A moved group is pinned: a later label that shares it (a language folder holding two
voices) cannot undo the move.

Deterministic for a given seed and corpus content; a group is always wholly on one side.
"""

import hashlib
from collections.abc import Mapping, Set

TRAIN, VAL = "train", "val"
TEST = "test"  # held-out packages only (packages.Package.heldout)
MIN_GROUPS_FOR_VAL = 3


def unit_hash(seed: int, name: str) -> float:
    """A stable number in [0, 1) for a name: the same on every machine and Python run."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def assign_splits(
    groups_by_label: Mapping[str, Set[str]],
    seed: int,
    val_share: float = 0.1,
    sizes: Mapping[str, float] | None = None,
) -> dict[str, str]:
    """group -> "train" or "val", for every group named in `groups_by_label` (sizes default to
    1)."""
    size = (lambda g: sizes.get(g, 0.0)) if sizes is not None else (lambda g: 1.0)

    def order(g: str) -> float:
        return unit_hash(seed, g)

    split = {
        g: VAL if order(g) < val_share else TRAIN for gs in groups_by_label.values() for g in gs
    }
    pinned: set[str] = set()  # moved for one label: later labels sharing the group leave it be

    def move(group: str, side: str) -> None:
        split[group] = side
        pinned.add(group)

    for label in sorted(groups_by_label):
        members = sorted((g for g in groups_by_label[label] if size(g) > 0), key=order)
        total = sum(size(g) for g in members)

        def on(side: str, members: list[str] = members) -> list[str]:
            return [g for g in members if split[g] == side]

        while sum(size(g) for g in on(VAL)) > 2 * val_share * total:
            free = [g for g in on(VAL) if g not in pinned]
            if len(on(VAL)) < 2 or not free:
                break
            move(free[-1], TRAIN)
        free_train = [g for g in on(TRAIN) if g not in pinned]
        if len(members) >= MIN_GROUPS_FOR_VAL and not on(VAL) and free_train:
            move(min(free_train, key=lambda g: (abs(size(g) - val_share * total), order(g))), VAL)
        free_val = [g for g in on(VAL) if g not in pinned]
        if len(members) >= 2 and not on(TRAIN) and free_val:
            move(free_val[-1], TRAIN)
    return split


def split_caps(limit: int | None, val_share: float) -> dict[str, int | None]:
    """Clips per label and split allowed by `--limit-per-label` (validation in proportion, at
    least 1; held-out `test` packages as training)."""
    if limit is None:
        return {TRAIN: None, VAL: None, TEST: None}
    return {TRAIN: limit, VAL: max(1, round(limit * val_share / (1.0 - val_share))), TEST: limit}
