"""Running a separator over a mixture list: one record of scores per item."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model.evaluation.backends import Separate
from model.evaluation.metrics import item_scores
from model.evaluation.mixtures import MixtureItem, render


def evaluate(separate: Separate, items: list[MixtureItem], root: Path, seconds: float = 10.0,
             use_negative: bool = True, progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    records = []
    for n, item in enumerate(items):
        mixture, target = render(item, root, seconds)
        negative = item.negative if use_negative else None
        estimate = separate(mixture, item.query, negative)
        scores = item_scores(estimate, mixture, target)
        records.append({"source": item.source, "noise": item.noise, "query": item.query, "negative": negative,
                        "snr_db": item.snr_db, "class": item.group,
                        "silent_reference": scores["SDR"] is None, **scores})
        if progress is not None:
            progress(n + 1, len(items))
    return records
