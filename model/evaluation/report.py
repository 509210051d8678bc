"""Per-item records -> aggregates (mean ± std, median, per-class macro mean) per query
mode, in markdown and JSON."""

import json
import statistics
from pathlib import Path
from typing import Any

from clapsep.model.evaluation.metrics import IMPROVEMENTS, METRICS

REPORTED = (*IMPROVEMENTS, *METRICS)


def aggregate(records: list[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Per metric: n, mean, std (sample), median, macro (mean of per-class means); silent
    references and skipped items (None scores) are left out and counted apart."""
    result = {}
    skipped = sum(1 for r in records if r.get("skipped"))
    for name in REPORTED:
        values = [r[name] for r in records if r[name] is not None]
        by_class: dict[str, list[float]] = {}
        for r in records:
            if r[name] is not None:
                by_class.setdefault(r["class"], []).append(r[name])
        result[name] = {
            "n": len(values),
            "silent": len(records) - len(values) - skipped,
            "skipped": skipped,
            "mean": statistics.fmean(values) if values else float("nan"),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "median": statistics.median(values) if values else float("nan"),
            "macro": statistics.fmean(statistics.fmean(v) for v in by_class.values())
            if by_class
            else float("nan"),
        }
    return result


def shot_stats(records: list[dict[str, Any]]) -> dict[str, float | int] | None:
    """How many audio examples the items of an audio mode really got (None: a text mode)."""
    counts = [r["shots"] for r in records if r.get("shots") is not None]
    if not counts:
        return None
    return {"min": min(counts), "mean": statistics.fmean(counts), "max": max(counts)}


def markdown(
    summary: dict[str, dict[str, float | int]],
    title: str,
    shots: dict[str, float | int] | None = None,
) -> str:
    lines = [f"## {title}", ""]
    if shots is not None:
        lines += [
            f"Audio examples per item: {shots['min']}..{shots['max']} (mean {shots['mean']:.2f}).",
            "",
        ]
    lines += [
        "| metric | mean ± std | median | class macro mean | n | silent refs | skipped |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['mean']:.2f} ± {s['std']:.2f} | {s['median']:.2f} | {s['macro']:.2f} "
            f"| {s['n']} | {s['silent']} | {s['skipped']} |"
        )
    lines += [
        "",
        "SDRi: plain SDR; SDRi-bss: BSS-eval SDR with a 512-tap filter (as the CLAPSep paper); "
        "SI-SDRi: scale-invariant. Silent references (RMS <= -100 dBFS) and items a mode "
        "cannot run (no negative caption, no audio example) are excluded.",
        "",
    ]
    return "\n".join(lines)


def overview(summaries: dict[str, dict[str, dict[str, float | int]]], title: str) -> str:
    """One row per query mode: the model card's table."""
    lines = [
        f"# {title}",
        "",
        "| queries | SDRi | SI-SDRi | SDRi-bss | SDRi class macro | SI-SDRi class macro | n |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, s in summaries.items():
        lines.append(
            f"| {mode} | {s['SDRi']['mean']:.2f} | {s['SI-SDRi']['mean']:.2f} "
            f"| {s['SDRi-bss']['mean']:.2f} "
            f"| {s['SDRi']['macro']:.2f} | {s['SI-SDRi']['macro']:.2f} | {s['SDRi']['n']} |"
        )
    return "\n".join([*lines, ""])


def report_markdown(
    summaries: dict[str, dict[str, dict[str, float | int]]],
    shots: dict[str, dict[str, float | int] | None],
    title: str,
) -> str:
    """The overview, then one section per mode."""
    sections = [
        markdown(summary, f"{title}: {mode}", shots.get(mode))
        for mode, summary in summaries.items()
    ]
    return "\n".join([overview(summaries, title), *sections])


def write_report(out: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, dict]:
    """`results.json` (meta, summary and shots per mode, items) and `results.md` under `out`;
    returns the summaries by mode."""
    out.mkdir(parents=True, exist_ok=True)
    modes = list(dict.fromkeys(r["mode"] for r in records))
    summaries = {mode: aggregate([r for r in records if r["mode"] == mode]) for mode in modes}
    shots = {mode: shot_stats([r for r in records if r["mode"] == mode]) for mode in modes}
    (out / "results.json").write_text(
        json.dumps({"meta": meta, "summary": summaries, "shots": shots, "items": records}, indent=2)
    )
    title = f"{meta.get('model', 'model')} on {meta.get('mixtures', '')}"
    (out / "results.md").write_text(report_markdown(summaries, shots, title))
    return summaries
