"""Building (or resuming) a corpus: plan, split, process what is missing, report.

Every run plans over all installed packages, whatever `packages` selects, so that the
split and the reports cover the whole corpus folder; only the selected packages are
read and written. Work is strictly sequential in this process (and one fluidsynth or
synthesizer child at a time): the build machines share two cores with other work.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.model.corpus import instruments, tts
from clapsep.model.corpus.clips import process
from clapsep.model.corpus.filters import ClipRules
from clapsep.model.corpus.licences import licence_for
from clapsep.model.corpus.manifest import Manifest, Record
from clapsep.model.corpus.packages import CATALOG, Package, refuse_reserved
from clapsep.model.corpus.report import Row, clip_rows, summarise, write_outputs
from clapsep.model.corpus.rules import Entry
from clapsep.model.corpus.sources import SourceItem, fingerprint, items
from clapsep.model.corpus.split import TEST, assign_splits, split_caps, unit_hash
from clapsep.model.corpus.table import lookup


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    packages: tuple[str, ...] = ()  # empty: every installed package
    limit_per_label: int | None = None
    seed: int = 0
    val_share: float = 0.1
    phrases_per_voice: int = 8
    rules: ClipRules = field(default_factory=ClipRules)

    def settings(self) -> dict[str, Any]:
        """What shapes the audio and the split: fixed for the life of a corpus folder."""
        return {
            "seed": self.seed,
            "val_share": self.val_share,
            "phrases_per_voice": self.phrases_per_voice,
            "rules": asdict(self.rules),
        }


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    key: str
    status: str  # "ok", "skipped", "failed", "resumed", "over_limit"


@dataclass(frozen=True)
class Planned:
    item: SourceItem
    entry: Entry
    package: Package


def available(package: Package) -> bool:
    """Installed, with the program its sources need."""
    return package.installed() and (package.kind != "midi" or instruments.fluidsynth_available())


def source_items(package: Package, options: BuildOptions) -> Iterator[SourceItem]:
    if package.kind == "midi":
        return instruments.items(package, options.seed, options.phrases_per_voice)
    if package.kind == "tts":
        return tts.items(package, options.seed)
    return items(package)


def plan(
    packages: Sequence[Package], options: BuildOptions, skipped: Counter[tuple[str, str]]
) -> list[Planned]:
    """Every labelled source of the packages; unlabelled ones are only counted."""
    planned = []
    for package in packages:
        for item in source_items(package, options):
            entry = item.entry or lookup(package.name, item.relpath)
            if entry is None:
                skipped[package.name, "unlabelled"] += 1
                continue
            if item.group:
                entry = replace(entry, group=f"{package.name}:{item.group}")
            planned.append(Planned(item, entry, package))
    return planned


def drop_unusable(planned: list[Planned], skipped: Counter[tuple[str, str]]) -> list[Planned]:
    """Drop unreadable formats and byte-identical copies (the first path in sorted order stays)."""
    kept, seen = [], set()
    for p in sorted(planned, key=lambda p: p.item.key):
        if not p.item.readable():
            skipped[p.package.name, "unsupported_format"] += 1
            continue
        if not p.item.generated:
            digest = fingerprint(p.item)
            if digest in seen:
                skipped[p.package.name, "duplicate"] += 1
                continue
            seen.add(digest)
        kept.append(p)
    return kept


def group_sizes(planned: list[Planned], manifest: Manifest) -> dict[str, float]:
    """Clips per split group, counting one per source not processed yet.

    Sources a quick or partial build left out count as if they were built, so the
    split a build writes is the one a later, complete build keeps.
    """
    sizes: dict[str, float] = defaultdict(float)
    for p in planned:
        record = manifest.records.get(p.item.key)
        done = record is not None and record.status != "failed"
        sizes[p.entry.group] += len(record.clips) if done else 1.0
    return sizes


def corpus_splits(
    planned: list[Planned], manifest: Manifest, options: BuildOptions
) -> dict[str, str]:
    """group -> split: held-out packages' groups are `test`, the rest train / val by
    `assign_splits`."""
    groups_by_label: dict[str, set[str]] = defaultdict(set)
    for p in planned:
        if not p.package.heldout:
            groups_by_label[p.entry.label].add(p.entry.group)
    splits = assign_splits(
        groups_by_label, options.seed, options.val_share, group_sizes(planned, manifest)
    )
    splits.update({p.entry.group: TEST for p in planned if p.package.heldout})
    return splits


@dataclass(frozen=True)
class Selection:
    """The catalogue's packages this machine can read, and which of the selected ones it builds."""

    installed: list[Package]
    built: list[str]  # selected and installed: the packages this run reads and writes
    missing: list[str]  # selected but not installed


def select_packages(options: BuildOptions, catalog: Sequence[Package]) -> Selection:
    """Refuse reserved or unknown names, and a selection of which nothing is installed."""
    refuse_reserved(p.name for p in catalog)
    by_name = {p.name: p for p in catalog}
    unknown = [n for n in options.packages if n not in by_name]
    if unknown:
        raise UserError(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    selected = set(options.packages or by_name)
    installed = [p for p in catalog if available(p)]
    missing = sorted(selected - {p.name for p in installed})
    if not selected - set(missing):
        raise UserError(
            f"none of the selected packages is installed ({', '.join(missing)}); "
            "install them (apt-get, or --install as root)"
        )
    return Selection(installed, sorted(selected - set(missing)), missing)


def build(
    options: BuildOptions,
    progress: Callable[[Progress], None] | None = None,
    catalog: Sequence[Package] = CATALOG,
) -> dict[str, Any]:
    """Build or resume the corpus in `options.out`; returns the summary also written there."""
    started = time.monotonic()
    selection = select_packages(options, catalog)
    manifest = Manifest(options.out, options.settings())
    manifest.open()
    skipped: Counter[tuple[str, str]] = Counter()
    planned = drop_unusable(plan(selection.installed, options, skipped), skipped)
    todo = [p for p in planned if p.package.name in selection.built]
    failures = process_missing(todo, planned, manifest, options, skipped, progress)
    clips = clip_rows(built_rows(planned, manifest, options, skipped), options.seed)
    summary = summarise(
        clips,
        skipped,
        {
            "settings": manifest.settings,
            "packages_built": selection.built,
            "missing_packages": selection.missing,
            "limit_per_label": options.limit_per_label,
            "build_seconds": round(time.monotonic() - started, 1),
            "failures": failures[:100],
        },
    )
    write_outputs(options.out, clips, summary)
    return summary


def _clip_counts(
    planned: list[Planned], manifest: Manifest, splits: dict[str, str]
) -> Counter[tuple[str, str]]:
    """Clips already built per (label, split): what the per-label caps start from."""
    counts: Counter[tuple[str, str]] = Counter()
    for p in planned:
        record = manifest.records.get(p.item.key)
        if record is not None and record.status == "ok":
            counts[p.entry.label, splits[p.entry.group]] += len(record.clips)
    return counts


def process_missing(
    todo: list[Planned],
    planned: list[Planned],
    manifest: Manifest,
    options: BuildOptions,
    skipped: Counter[tuple[str, str]],
    progress: Callable[[Progress], None] | None,
) -> list[dict]:
    """Process the sources of `todo` not done yet, in seeded hash order, within the per-label caps.

    The order spreads a capped or interrupted build over every label; returns the failures.
    """
    splits = corpus_splits(planned, manifest, options)
    counts = _clip_counts(planned, manifest, splits)
    caps = split_caps(options.limit_per_label, options.val_share)
    todo = sorted(todo, key=lambda p: unit_hash(options.seed, p.item.key))
    failures = []
    for done, p in enumerate(todo, 1):
        split = splits[p.entry.group]
        if manifest.done(p.item.key):
            status = "resumed"
        elif (cap := caps[split]) is not None and counts[p.entry.label, split] >= cap:
            skipped[p.package.name, "over_limit"] += 1
            status = "over_limit"
        else:
            record = _process(p, options)
            manifest.add(record)
            counts[p.entry.label, split] += len(record.clips)
            status = record.status
            if record.status == "failed":
                failures.append({"source": p.item.key, "error": record.reason})
        if progress:
            progress(Progress(done, len(todo), p.item.key, status))
    return failures


def built_rows(
    planned: list[Planned],
    manifest: Manifest,
    options: BuildOptions,
    skipped: Counter[tuple[str, str]],
) -> list[Row]:
    """The sources with clips, in the split of the corpus as it now stands; the others counted in
    `skipped`."""
    splits = corpus_splits(planned, manifest, options)
    rows = []
    for p in planned:
        record = manifest.records.get(p.item.key)
        if record is None:
            continue
        if record.status == "ok":
            rows.append(Row(record, p.entry, splits[p.entry.group]))
        elif record.status == "skipped":
            skipped[p.package.name, record.reason] += 1
        else:
            skipped[p.package.name, "failed"] += 1
    return rows


def _process(p: Planned, options: BuildOptions) -> Record:
    """One source to clips; any error becomes a "failed" record (retried next run), not a dead
    build."""
    licence = p.item.licence or licence_for(p.package, p.item.relpath)
    try:
        return process(p.item, licence, options.out, options.rules)
    except Exception as exc:  # a corrupt file or a failed render must not stop hours of work
        return Record(
            p.item.key,
            p.package.name,
            p.item.source_file,
            "failed",
            f"{type(exc).__name__}: {exc}"[:300],
            licence=licence,
        )
