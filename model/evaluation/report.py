"""Per-item records -> aggregates (mean ± std, median, per-class macro mean) in markdown and JSON."""

import json
import statistics
from pathlib import Path
from typing import Any

from model.evaluation.metrics import IMPROVEMENTS, METRICS

REPORTED = (*IMPROVEMENTS, *METRICS)


def aggregate(records: list[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Per metric: n, mean, std (sample), median, macro (mean of per-class means); silent
    references (None scores) are left out and counted as `silent`."""
    result = {}
    for name in REPORTED:
        values = [r[name] for r in records if r[name] is not None]
        by_class: dict[str, list[float]] = {}
        for r in records:
            if r[name] is not None:
                by_class.setdefault(r["class"], []).append(r[name])
        result[name] = {
            "n": len(values), "silent": len(records) - len(values),
            "mean": statistics.fmean(values) if values else float("nan"),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "median": statistics.median(values) if values else float("nan"),
            "macro": statistics.fmean(statistics.fmean(v) for v in by_class.values()) if by_class else float("nan"),
        }
    return result


def markdown(summary: dict[str, dict[str, float | int]], title: str) -> str:
    lines = [f"## {title}", "", "| metric | mean ± std | median | class macro mean | n | silent refs |",
             "|---|---|---|---|---|---|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['mean']:.2f} ± {s['std']:.2f} | {s['median']:.2f} | {s['macro']:.2f} "
                     f"| {s['n']} | {s['silent']} |")
    lines += ["", "SDRi: plain SDR; SDRi-bss: BSS-eval SDR with a 512-tap filter (as the CLAPSep paper); "
              "SI-SDRi: scale-invariant. Silent references (RMS <= -100 dBFS) are excluded.", ""]
    return "\n".join(lines)


def write_report(out: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> dict:
    """`results.json` (meta, summary, items) and `results.md` under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    summary = aggregate(records)
    (out / "results.json").write_text(json.dumps({"meta": meta, "summary": summary, "items": records}, indent=2))
    (out / "results.md").write_text(markdown(summary, f"{meta.get('model', 'model')} on {meta.get('mixtures', '')}"))
    return summary
