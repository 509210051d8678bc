"""The corpus as training sees it: clips.csv, licences.csv and summary.json.

All three are rewritten from the manifest and the current plan at the end of every
build (to a temporary name, then renamed), so they always agree with each other and
with the clips on disk, whatever the history of interrupted or partial builds.
"""

import csv
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clapsep.files import replacing, write_json_atomic
from clapsep.model.corpus.manifest import Record
from clapsep.model.corpus.rules import Entry
from clapsep.model.corpus.vocabulary import LABELS, caption

CLIP_COLUMNS = (
    "path",
    "label",
    "category",
    "caption",
    "source_package",
    "source_file",
    "licence",
    "native_sr",
    "duration_s",
    "split",
    "group",
)
LICENCE_COLUMNS = ("source_package", "source_file", "licence")


@dataclass(frozen=True)
class Row:
    """One source that produced clips, with what the table and the split say about it."""

    record: Record
    entry: Entry
    split: str


def clip_rows(rows: Iterable[Row], seed: int) -> list[dict[str, Any]]:
    """One CSV row per clip; the caption is drawn per clip, reproducibly, from the label's
    templates."""
    out = []
    for row in rows:
        for clip in row.record.clips:
            out.append(
                {
                    "path": clip.path,
                    "label": row.entry.label,
                    "category": LABELS[row.entry.label].category,
                    "caption": caption(
                        row.entry.label,
                        random.Random(f"{seed}:{clip.path}"),
                        row.entry.what,
                        row.entry.language,
                    ),
                    "source_package": row.record.package,
                    "source_file": row.record.source_file,
                    "licence": row.record.licence,
                    "native_sr": row.record.native_sr,
                    "duration_s": clip.duration_s,
                    "split": row.split,
                    "group": row.entry.group,
                }
            )
    return sorted(out, key=lambda r: r["path"])


def summarise(
    clips: list[dict[str, Any]], skipped: Counter[tuple[str, str]], extra: dict[str, Any]
) -> dict[str, Any]:
    """Counts and hours per label, split and package, and what was skipped why."""
    per_label: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"train": 0, "val": 0, "test": 0, "seconds": 0.0}
    )
    per_package: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"clips": 0, "sources": set(), "seconds": 0.0}
    )
    seconds = Counter[str]()
    for c in clips:
        label = per_label[c["label"]]
        label["category"] = LABELS[c["label"]].category
        label[c["split"]] += 1
        label["seconds"] += c["duration_s"]
        package = per_package[c["source_package"]]
        package["clips"] += 1
        package["sources"].add(c["source_file"])
        package["seconds"] += c["duration_s"]
        seconds[c["split"]] += c["duration_s"]
    by_reason = Counter[str]()
    by_package: dict[str, dict[str, int]] = defaultdict(dict)
    for (package, reason), n in sorted(skipped.items()):
        by_reason[reason] += n
        by_package[package][reason] = n
    return {
        **extra,
        "clips": len(clips),
        "hours": {split: round(seconds[split] / 3600, 3) for split in ("train", "val", "test")}
        | {"total": round(sum(seconds.values()) / 3600, 3)},
        "clips_per_split": dict(Counter(c["split"] for c in clips)),
        "per_label": {
            k: {**v, "seconds": round(v["seconds"], 1)} for k, v in sorted(per_label.items())
        },
        "per_package": {
            k: {
                "clips": v["clips"],
                "sources": len(v["sources"]),
                "hours": round(v["seconds"] / 3600, 3),
            }
            for k, v in sorted(per_package.items())
        },
        "skipped": dict(sorted(by_reason.items())),
        "skipped_per_package": dict(by_package),
    }


def write_outputs(root: Path, clips: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    licences = sorted({(c["source_package"], c["source_file"], c["licence"]) for c in clips})
    _write_csv(root / "clips.csv", CLIP_COLUMNS, clips)
    _write_csv(
        root / "licences.csv",
        LICENCE_COLUMNS,
        [dict(zip(LICENCE_COLUMNS, r, strict=True)) for r in licences],
    )
    write_json_atomic(root / "summary.json", summary)


def read_summary(root: Path) -> dict[str, Any]:
    return json.loads((root / "summary.json").read_text(encoding="utf-8"))


def format_stats(summary: dict[str, Any]) -> str:
    """A plain-text table of a summary, for `clapsep corpus stats`."""
    lines = [
        f"{summary['clips']} clips, {summary['hours']['total']:.2f} h "
        f"(train {summary['hours']['train']:.2f} h, val {summary['hours']['val']:.2f} h, "
        f"held-out test {summary['hours'].get('test', 0.0):.2f} h)",
        f"{'label':<22}{'category':<12}{'train':>7}{'val':>6}{'test':>6}{'minutes':>9}",
    ]
    for label, v in summary["per_label"].items():
        lines.append(
            f"{label:<22}{v['category']:<12}{v['train']:>7}{v['val']:>6}{v.get('test', 0):>6}"
            f"{v['seconds'] / 60:>9.1f}"
        )
    lines.append(
        "skipped: " + (", ".join(f"{k} {n}" for k, n in summary["skipped"].items()) or "none")
    )
    if summary.get("missing_packages"):
        lines.append("not installed: " + ", ".join(summary["missing_packages"]))
    return "\n".join(lines)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with replacing(path) as temp, open(temp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
