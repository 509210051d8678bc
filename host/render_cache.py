"""A cache of rendered stems, so re-running a preset on an unchanged clip is instant.

DAW round trips re-render the same clip often (undo, re-open, a batch resumed on
another machine). The key hashes everything the written samples depend on: the source
file's bytes (not the path or mtime: a touched file still hits, an edited one misses),
the section asked for, the model identity (package digest and condition vector, given
by the caller), the settings that change samples, and the effect chains (plugin files
by size and mtime). Settings that only change names or speed (stems, template, batch
and block size) are left out, so any subset of the cached stems hits. Hashing bytes
decodes nothing: a hit never decodes the source, a miss decodes it once, to render.

An entry is a folder `<key>/` with the stem WAVs and `entry.json` (which also records
the frames the section covered, to name the outputs of a hit), built in a temp folder
and renamed into place, so a reader sees a whole entry or none. A hit copies
each stem beside its destination while checking its recorded hash, then renames it in:
a damaged entry is deleted and reported as a miss, never served. Copies, not links: a
DAW that edits a returned file in place must not alter the cache. The cache is bounded
(`max_bytes`, least recently used entries go first).
"""

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clapsep.files import cannot_write, publish, remove_temp, replacing, temp_path
from clapsep.host.chains import chain_fingerprint
from clapsep.host.render import (
    RenderedStem,
    RenderSettings,
    SeparateFn,
    planned_outputs,
    render_file,
)
from clapsep.host.windowing import Cancel, Progress
from clapsep.paths import user_data_dir

CACHE_VERSION = 3  # 3: integer PCM sources read on the libsndfile scale (2^(bits-1))
ENTRY_FILE = "entry.json"
DEFAULT_MAX_BYTES = 2 << 30


def default_max_bytes() -> int:
    """2 GiB unless `CLAPSEP_RENDER_CACHE_MB` says otherwise (0 turns caching off)."""
    value = os.environ.get("CLAPSEP_RENDER_CACHE_MB")
    return DEFAULT_MAX_BYTES if value is None else int(float(value) * (1 << 20))


def render_recipe(settings: RenderSettings, model_identity: str) -> dict[str, Any]:
    """Everything but the source that the samples of a stem depend on, as JSON-ready data: the
    model identity (package digest and conditions), the section, the settings that change
    samples, a split's stem names and the effect chains. File names, the stems chosen and
    speed settings are left out."""
    section = settings.section
    # A split's stems depend on its names (which target is which) and on the partition;
    # one-query recipes keep their keys of before splits existed.
    split = (
        {"split": list(settings.split), "overlapping": settings.overlapping}
        if settings.split
        else {}
    )
    return {
        **split,
        "cache": CACHE_VERSION,
        "model": model_identity,
        "section": None if section is None else [section.start, section.end, section.unit],
        "channel_mode": settings.channel_mode,
        "atten": settings.atten_limit_db,
        "gains": sorted(settings.gains_db.items()),
        "model_rate": settings.model_rate,
        "window": settings.window,
        "overlap": settings.overlap,
        "bit_depth": settings.bit_depth,
        "pre": chain_fingerprint(settings.pre_chain),
        "post": chain_fingerprint(settings.post_chain),
    }


class RenderCache:
    """Stems by content key under `directory` (default `user_data_dir()/cache/renders`)."""

    def __init__(self, directory: Path | None = None, max_bytes: int | None = None) -> None:
        self.directory = (
            Path(directory) if directory is not None else user_data_dir() / "cache" / "renders"
        )
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes

    def key(self, source: Path, settings: RenderSettings, model_identity: str) -> str:
        """Hash of the source file's bytes, the section and everything that shapes the output.

        Raises `OSError` when the source cannot be read.
        """
        recipe = {**render_recipe(settings, model_identity), "source": file_digest(source)}
        return hashlib.blake2b(
            json.dumps(recipe, sort_keys=True).encode(), digest_size=20
        ).hexdigest()

    def entry(self, key: str) -> dict[str, Any] | None:
        """The entry stored under `key` (its stems, frames, rate and channels), or None."""
        try:
            entry = json.loads((self.directory / key / ENTRY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("version") == CACHE_VERSION else None

    def restore(
        self, key: str, entry: Mapping[str, Any], paths: Mapping[str, Path], overwrite: bool = False
    ) -> bool:
        """Copy the entry's stems to `paths`; False (and nothing written) when it is gone or
        damaged. A stem that cannot be written (a full disk, a read-only folder) raises
        `UserError`, leaving nothing behind either."""
        temps: dict[str, Path] = {}
        try:
            for stem, dest in paths.items():
                temps[stem] = temp_path(dest)
                info = entry["stems"][stem]
                cached = self.directory / key / info["file"]
                try:
                    digest = _copy_hashed(cached, temps[stem])
                except OSError as exc:
                    if exc.filename == str(cached) or not cached.is_file():
                        return False  # evicted by another process meanwhile
                    raise cannot_write(dest, exc) from None
                if digest != info["blake2b"]:
                    shutil.rmtree(self.directory / key, ignore_errors=True)
                    return False
            done = []
            try:
                for stem, dest in paths.items():
                    try:
                        done.append(publish(temps[stem], dest, overwrite))
                    except OSError as exc:
                        raise cannot_write(dest, exc) from None
            except BaseException:
                for path in done:
                    path.unlink(missing_ok=True)
                raise
        finally:
            for temp in temps.values():
                remove_temp(temp)
        with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: the copies are still good
            os.utime(self.directory / key / ENTRY_FILE)  # most recently used
        return True

    def store(self, key: str, rendered: list[RenderedStem], first: int) -> None:
        """Keep copies of freshly rendered stems (of a section starting at frame `first`), then
        trim the cache."""
        size = sum(r.path.stat().st_size for r in rendered)
        if not rendered or size > self.max_bytes:
            return
        final = self.directory / key
        if final.exists():
            stale = self.directory / f".old-{uuid.uuid4().hex}"
            final.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            with replacing(final) as building:
                building.mkdir()
                stems = {
                    r.stem: {
                        "file": f"{r.stem}.wav",
                        "blake2b": _copy_hashed(r.path, building / f"{r.stem}.wav"),
                    }
                    for r in rendered
                }
                entry = {
                    "version": CACHE_VERSION,
                    "first": first,
                    "frames": rendered[0].frames,
                    "sample_rate": rendered[0].sample_rate,
                    "channels": rendered[0].channels,
                    "stems": stems,
                }
                (building / ENTRY_FILE).write_text(json.dumps(entry), encoding="utf-8")
        except OSError:
            if not (final / ENTRY_FILE).is_file():
                raise
            # Another render of the same input stored this key meanwhile (a batch holding two
            # copies of one file): its entry holds the same stems, so ours is not needed.
        self.evict()

    def evict(self) -> None:
        """Remove least recently used entries until the cache fits `max_bytes`."""
        entries = []
        for folder in self.directory.iterdir() if self.directory.is_dir() else []:
            try:
                used = (folder / ENTRY_FILE).stat().st_mtime
                size = sum(f.stat().st_size for f in folder.iterdir())
            except (FileNotFoundError, NotADirectoryError):
                continue  # a temp folder, or one being replaced
            entries.append((used, size, folder))
        total = sum(size for _, size, _ in entries)
        for _, size, folder in sorted(entries):
            if total <= self.max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= size


def cached_render(
    source: Path,
    out_dir: Path,
    separate: SeparateFn,
    query_slug: str,
    settings: RenderSettings,
    cache: RenderCache | None,
    model_identity: str,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> tuple[list[RenderedStem], bool]:
    """`render_file` through the cache: (stems written, whether they came from the cache)."""
    source, out_dir = Path(source), Path(out_dir)
    key = None
    if cache is not None and cache.max_bytes > 0:
        with contextlib.suppress(OSError):  # an unreadable source: render_file says why
            key = cache.key(source, settings, model_identity)
    if cache is None or key is None:
        return render_file(source, out_dir, separate, query_slug, settings, progress, cancel), False
    entry = cache.entry(key)
    if entry is not None and set(settings.stems) <= set(entry["stems"]):
        span = (entry["first"], entry["first"] + entry["frames"])
        paths = planned_outputs(source, out_dir, query_slug, settings, span)
        if cache.restore(key, entry, paths, settings.overwrite):
            if progress is not None:
                progress(1.0)
            return [
                RenderedStem(
                    source, stem, path, entry["frames"], entry["sample_rate"], entry["channels"]
                )
                for stem, path in paths.items()
            ], True
    rendered = render_file(source, out_dir, separate, query_slug, settings, progress, cancel)
    section = settings.section
    # The stems are written; a cache that cannot take them (its disk full, say) only costs
    # the next render its shortcut.
    with contextlib.suppress(OSError):
        cache.store(
            key, rendered, 0 if section is None else section.first_frame(rendered[0].sample_rate)
        )
    return rendered, False


def file_digest(path: Path) -> str:
    """blake2b (20 bytes, hex) of a file's bytes; raises `OSError` when it cannot be read."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashed(src: Path, dest: Path) -> str:
    """Copy `src` to `dest` and return the blake2b of the bytes copied."""
    digest = hashlib.blake2b(digest_size=20)
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
    return digest.hexdigest()
