"""Running a separator over a mixture list: one record of scores per item and query mode.

Query modes (what the model card reports):
- `text-p`: the positive caption only; `text-n`: the negative caption only (the target is
  still the source: the model must remove the named interferer); `text-pn`: both;
- `audio-K`: K audio examples of the target's label as the positive query, no text, no
  negative (`ShotPool` picks them; fewer when the label has fewer, the record says how many).
Each mixture is rendered once and separated once per mode.
"""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from clapsep.model.evaluation.backends import QuerySide, Separate
from clapsep.model.evaluation.heldout import ShotPool
from clapsep.model.evaluation.metrics import IMPROVEMENTS, METRICS, item_scores
from clapsep.model.evaluation.mixtures import MixtureItem, render

MODES = ("text-p", "text-n", "text-pn", "audio-1", "audio-5")
DEFAULT_MODE = "text-pn"


def parse_modes(values: Iterable[str]) -> list[str]:
    """Repeated and/or comma-separated mode names -> distinct modes in the order given."""
    modes: list[str] = []
    for value in values:
        for name in (v.strip() for v in value.split(",")):
            if name and name not in MODES:
                raise ValueError(f"unknown query mode {name!r}; choose from {', '.join(MODES)}")
            if name and name not in modes:
                modes.append(name)
    return modes


def shot_count(mode: str) -> int:
    """K of `audio-K`; 0 for the text modes."""
    return int(mode.split("-", 1)[1]) if mode.startswith("audio-") else 0


def query_sides(
    item: MixtureItem, mode: str, shots: list[Path]
) -> tuple[QuerySide | None, QuerySide | None, str | None]:
    """(positive, negative, why the item cannot be run in this mode or None)."""
    if mode == "text-p":
        return QuerySide(text=item.query), None, None
    if mode == "text-n":
        if not item.negative:
            return None, None, "no negative caption"
        return None, QuerySide(text=item.negative), None
    if mode == "text-pn":
        return (
            QuerySide(text=item.query),
            QuerySide(text=item.negative) if item.negative else None,
            None,
        )
    if not shots:
        return None, None, "no audio example of the label"
    return QuerySide(audio=tuple(shots)), None, None


def evaluate(
    separate: Separate,
    items: list[MixtureItem],
    root: Path,
    seconds: float = 10.0,
    modes: Iterable[str] = (DEFAULT_MODE,),
    shot_pool: ShotPool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Records (`mode`, queries, shot files, scores) item by item; an item a mode cannot run
    gets None scores and a `skipped` reason, which the aggregates count apart."""
    modes = list(modes)
    if shot_pool is None and any(shot_count(m) for m in modes):
        raise ValueError("audio query modes need a clips table to draw the examples from")
    records, total = [], len(items) * len(modes)
    for n, item in enumerate(items):
        mixture, target = render(item, root, seconds)
        for m, mode in enumerate(modes):
            k = shot_count(mode)
            shots = shot_pool.shots(item, root, k) if k and shot_pool is not None else []
            positive, negative, skipped = query_sides(item, mode, shots)
            if skipped:
                scores: dict[str, float | None] = {name: None for name in (*METRICS, *IMPROVEMENTS)}
            else:
                scores = item_scores(separate(mixture, positive, negative), mixture, target)
            records.append(
                {
                    "mode": mode,
                    "source": item.source,
                    "noise": item.noise,
                    "query": positive.text if positive else None,
                    "negative": negative.text if negative else None,
                    "shots": len(shots) if k else None,
                    "shot_files": [str(p) for p in shots],
                    "snr_db": item.snr_db,
                    "class": item.group,
                    "skipped": skipped,
                    "silent_reference": not skipped and scores["SDR"] is None,
                    **scores,
                }
            )
            if progress is not None:
                progress(n * len(modes) + m + 1, total)
    return records
