"""Train/validation split: by group, seeded, stable, and never sharing a source or a voice."""

from collections import defaultdict

import pytest

from clapsep.model.corpus.packages import BY_NAME
from clapsep.model.corpus.sources import items
from clapsep.model.corpus.split import TEST, TRAIN, VAL, assign_splits, split_caps, unit_hash
from clapsep.model.corpus.table import lookup


def test_unit_hash_is_stable_across_machines() -> None:
    assert unit_hash(0, "hydrogen-data:GMRockKit/Kick") == pytest.approx(
        unit_hash(0, "hydrogen-data:GMRockKit/Kick")
    )
    assert round(unit_hash(0, "a"), 12) == round(
        int.from_bytes(__import__("hashlib").blake2b(b"0:a", digest_size=8).digest(), "big")
        / 2**64,
        12,
    )
    assert unit_hash(0, "a") != unit_hash(1, "a")


def test_split_is_deterministic_and_seeded() -> None:
    groups = {f"label{i % 7}": {f"g{j}" for j in range(i, i + 30)} for i in range(20)}
    first, again = assign_splits(groups, seed=3), assign_splits(groups, seed=3)
    assert first == again
    assert assign_splits(groups, seed=4) != first
    share = sum(s == VAL for s in first.values()) / len(first)
    assert 0.03 < share < 0.25


def test_uneven_groups_are_balanced_by_size() -> None:
    """Four big voices fell under the hash: validation may not take more than twice its share."""
    groups = {"speech_male": {f"voice{i}" for i in range(18)}}
    sizes = {f"voice{i}": 900.0 if i % 3 == 0 else 100.0 for i in range(18)}
    split = assign_splits(groups, seed=0, val_share=0.1, sizes=sizes)
    val = sum(sizes[g] for g, s in split.items() if s == VAL)
    assert 0 < val <= 2 * 0.1 * sum(sizes.values()) or sum(s == VAL for s in split.values()) == 1


def test_empty_groups_do_not_count_as_validation() -> None:
    """A voice whose files all clip has no clips: the label still needs another validation voice."""
    groups = {"speech_female": {"es", "el", "ro", "be"}}
    chosen = assign_splits(groups, seed=0, sizes={"es": 1, "el": 1, "ro": 1, "be": 1})
    emptied = next(g for g, s in chosen.items() if s == VAL)
    sizes = {"es": 600, "el": 600, "ro": 600, "be": 600, emptied: 0}
    split = assign_splits(groups, seed=0, sizes=sizes)
    assert any(s == VAL for g, s in split.items() if sizes[g] > 0)


def test_every_label_with_three_groups_has_validation_and_training() -> None:
    groups = {f"label{i}": {f"label{i}-g{j}" for j in range(3)} for i in range(30)}
    split = assign_splits(groups, seed=0)
    for members in groups.values():
        assert {split[g] for g in members} == {TRAIN, VAL}


def test_caps_for_quick_builds() -> None:
    assert split_caps(None, 0.1) == {TRAIN: None, VAL: None, TEST: None}
    assert split_caps(20, 0.1) == {
        TRAIN: 20,
        VAL: 2,
        TEST: 20,
    }  # held-out packages capped as training
    assert split_caps(1, 0.1)[VAL] == 1


@pytest.mark.parametrize(
    "name", ["fillets-ng-data-cs", "tuxpaint-stamps-default", "ktuberling-data", "hedgewars-data"]
)
def test_no_speaker_is_heard_in_both_splits(name: str) -> None:
    """Speech files are grouped by voice, so a voice's files all land on one side."""
    package = BY_NAME[name]
    if not package.installed():
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    entries = [e for e in (lookup(name, i.relpath) for i in items(package)) if e]
    groups_by_label = defaultdict(set)
    for e in entries:
        groups_by_label[e.label].add(e.group)
    split = assign_splits(groups_by_label, seed=0)
    sides_per_voice = defaultdict(set)
    for e in entries:
        if e.label.startswith("speech"):
            sides_per_voice[e.group].add(split[e.group])
    assert sides_per_voice and all(len(sides) == 1 for sides in sides_per_voice.values())
    assert (
        len({e.group for e in entries if e.label.startswith("speech")}) >= 3
    )  # grouped by voice, not by file
