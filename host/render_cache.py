"""A cache of rendered stems, so re-running a preset on an unchanged clip is instant.

DAW round trips re-render the same clip often (undo, re-open, a batch resumed on
another machine). The key hashes everything the written samples depend on: the
decoded samples of the section actually read (not the path or mtime: a touched file
still hits, an edited one misses), the section, the model identity (package digest
and condition vector, given by the caller), the settings that change samples, and the
effect chains (plugin files by size and mtime). Settings that only change names or
speed (stems, template, batch and block size) are left out, so any subset of the
cached stems hits.

An entry is a folder `<key>/` with the stem WAVs and `entry.json`, built in a temp
folder and renamed into place, so a reader sees a whole entry or none. A hit copies
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

from clapsep.files import publish, temp_path
from clapsep.host.audio_io import SourceReader
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

CACHE_VERSION = 1
ENTRY_FILE = "entry.json"
DEFAULT_MAX_BYTES = 2 << 30


def default_max_bytes() -> int:
    """2 GiB unless `CLAPSEP_RENDER_CACHE_MB` says otherwise (0 turns caching off)."""
    value = os.environ.get("CLAPSEP_RENDER_CACHE_MB")
    return DEFAULT_MAX_BYTES if value is None else int(float(value) * (1 << 20))


class RenderCache:
    """Stems by content key under `directory` (default `user_data_dir()/cache/renders`)."""

    def __init__(self, directory: Path | None = None, max_bytes: int | None = None) -> None:
        self.directory = Path(directory) if directory is not None else user_data_dir() / "cache" / "renders"
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes

    def key(self, reader: SourceReader, settings: RenderSettings, model_identity: str) -> str:
        """Hash of the section's decoded samples and everything that shapes the output."""
        recipe = {
            "cache": CACHE_VERSION, "model": model_identity, "rate": reader.sample_rate,
            "channels": reader.channels, "section": [reader.first, reader.frames],
            "channel_mode": settings.channel_mode, "atten": settings.atten_limit_db,
            "gains": sorted(settings.gains_db.items()), "model_rate": settings.model_rate,
            "window": settings.window, "overlap": settings.overlap, "bit_depth": settings.bit_depth,
            "pre": chain_fingerprint(settings.pre_chain), "post": chain_fingerprint(settings.post_chain),
        }
        digest = hashlib.blake2b(json.dumps(recipe, sort_keys=True).encode(), digest_size=20)
        for block in reader.blocks(settings.block_frames):
            digest.update(block.tobytes())
        return digest.hexdigest()

    def lookup(self, key: str, paths: Mapping[str, Path], overwrite: bool = False) -> dict[str, Path] | None:
        """Copy the cached stems to `paths` and return them, or None on a miss."""
        entry = self._read_entry(key)
        if entry is None or not set(paths) <= set(entry["stems"]):
            return None
        temps: dict[str, Path] = {}
        try:
            for stem, dest in paths.items():
                temps[stem] = temp_path(dest)
                info = entry["stems"][stem]
                if _copy_hashed(self.directory / key / info["file"], temps[stem]) != info["blake2b"]:
                    shutil.rmtree(self.directory / key, ignore_errors=True)
                    return None
            done = []
            try:
                for stem, dest in paths.items():
                    done.append(publish(temps[stem], dest, overwrite))
            except BaseException:
                for path in done:
                    path.unlink(missing_ok=True)
                raise
        except FileNotFoundError:  # evicted by another process meanwhile
            return None
        finally:
            for temp in temps.values():
                temp.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: the copies are still good
            os.utime(self.directory / key / ENTRY_FILE)  # most recently used
        return dict(paths)

    def store(self, key: str, rendered: list[RenderedStem]) -> None:
        """Keep copies of freshly rendered stems under `key`, then trim the cache."""
        size = sum(r.path.stat().st_size for r in rendered)
        if not rendered or size > self.max_bytes:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        building = self.directory / f".build-{uuid.uuid4().hex}"
        building.mkdir()
        try:
            stems = {}
            for r in rendered:
                stems[r.stem] = {"file": f"{r.stem}.wav", "blake2b": _copy_hashed(r.path, building / f"{r.stem}.wav")}
            entry = {"version": CACHE_VERSION, "stems": stems}
            (building / ENTRY_FILE).write_text(json.dumps(entry), encoding="utf-8")
            final = self.directory / key
            if final.exists():
                stale = self.directory / f".old-{uuid.uuid4().hex}"
                final.rename(stale)
                shutil.rmtree(stale, ignore_errors=True)
            building.rename(final)
        finally:
            shutil.rmtree(building, ignore_errors=True)
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

    def _read_entry(self, key: str) -> dict | None:
        try:
            entry = json.loads((self.directory / key / ENTRY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("version") == CACHE_VERSION else None


def cached_render(
    source: Path,
    out_dir: Path,
    separate: SeparateFn,
    condition_slug: str,
    settings: RenderSettings,
    cache: RenderCache | None,
    model_identity: str,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> tuple[list[RenderedStem], bool]:
    """`render_file` through the cache: (stems written, whether they came from the cache)."""
    if cache is None or cache.max_bytes <= 0:
        return render_file(source, out_dir, separate, condition_slug, settings, progress, cancel), False
    with SourceReader(Path(source), settings.section) as reader:
        paths = planned_outputs(reader, Path(out_dir), condition_slug, settings)
        key = cache.key(reader, settings, model_identity)
        hit = cache.lookup(key, paths, settings.overwrite)
        if hit is not None:
            if progress is not None:
                progress(1.0)
            return [RenderedStem(reader.path, stem, path, reader.frames, reader.sample_rate, reader.channels)
                    for stem, path in hit.items()], True
    rendered = render_file(source, out_dir, separate, condition_slug, settings, progress, cancel)
    cache.store(key, rendered)
    return rendered, False


def _copy_hashed(src: Path, dest: Path) -> str:
    """Copy `src` to `dest` and return the blake2b of the bytes copied."""
    digest = hashlib.blake2b(digest_size=20)
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
    return digest.hexdigest()
