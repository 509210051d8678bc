"""The render cache: identical hits without the separator, misses on any change, no bad entry
served."""

import os
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.host import render_cache
from clapsep.host.audio_io import Section
from clapsep.host.render import RenderSettings
from clapsep.host.render_cache import ENTRY_FILE, RenderCache, cached_render

RATE = 16000


class CountingSeparator:
    """Halves the mixture and counts its calls, so a test can tell a hit from a render."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        return batch * 0.5


def settings(**kwargs: object) -> RenderSettings:
    return RenderSettings(**{"window": 4000, "overlap": 1000, "model_rate": RATE, **kwargs})


def write(path: Path, seed: int = 0, frames: int = 12000) -> Path:
    x = (np.random.default_rng(seed).standard_normal((2, frames)) * 0.1).astype(np.float32)
    with AudioFile(str(path), "w", RATE, 2) as f:
        f.write(x)
    return path


@pytest.fixture
def cache(tmp_path: Path) -> RenderCache:
    return RenderCache(tmp_path / "cache", max_bytes=10 << 20)


def outdir(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


def render(
    source: Path,
    out: Path,
    cache: RenderCache | None,
    separate: CountingSeparator,
    identity: str = "model-a",
    **kwargs: object,
):
    return cached_render(source, out, separate, "q", settings(**kwargs), cache, identity)


def test_a_hit_copies_identical_stems_without_calling_the_separator(
    tmp_path: Path, cache: RenderCache
) -> None:
    source, separate = write(tmp_path / "mix.wav"), CountingSeparator()
    first, cached = render(source, outdir(tmp_path, "a"), cache, separate)
    assert not cached and separate.calls > 0
    calls = separate.calls
    second, cached = render(source, outdir(tmp_path, "b"), cache, separate)
    assert cached and separate.calls == calls
    for a, b in zip(first, second, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()
        assert (a.stem, a.frames, a.sample_rate, a.channels) == (
            b.stem,
            b.frames,
            b.sample_rate,
            b.channels,
        )
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith(".")]  # no temp left


def test_a_hit_decodes_nothing_and_names_a_section_as_its_render_did(
    tmp_path: Path, cache: RenderCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, separate, section = write(tmp_path / "mix.wav"), CountingSeparator(), Section(0.1, 0.5)
    first, _ = render(source, outdir(tmp_path, "a"), cache, separate, section=section)

    def decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit must not decode the source")

    monkeypatch.setattr(render_cache, "render_file", decode)
    second, cached = render(source, outdir(tmp_path, "b"), cache, separate, section=section)
    assert cached and [r.path.name for r in second] == [r.path.name for r in first]
    assert [(r.frames, r.sample_rate, r.channels) for r in second] == [
        (r.frames, r.sample_rate, r.channels) for r in first
    ]


def test_a_touched_file_still_hits_and_a_subset_of_stems_hits(
    tmp_path: Path, cache: RenderCache
) -> None:
    source, separate = write(tmp_path / "mix.wav"), CountingSeparator()
    render(source, outdir(tmp_path, "a"), cache, separate)
    calls = separate.calls
    os.utime(source, (1, 1))
    (stem,), cached = render(source, outdir(tmp_path, "b"), cache, separate, stems=("residual",))
    assert cached and stem.stem == "residual" and separate.calls == calls


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"identity": "model-b"},
        {"atten_limit_db": 12.0},
        {"gains_db": {"target": -3.0}},
        {"section": Section(0.1, 0.5)},
        {"channel_mode": "mono"},
        {"bit_depth": 24},
    ],
)
def test_anything_that_changes_the_samples_misses(
    tmp_path: Path, cache: RenderCache, change: dict
) -> None:
    separate = CountingSeparator()
    render(write(tmp_path / "mix.wav"), outdir(tmp_path, "a"), cache, separate)
    calls = separate.calls
    seed = change.pop("seed", 0)
    source = write(tmp_path / "mix.wav", seed) if seed else tmp_path / "mix.wav"
    _, cached = render(source, outdir(tmp_path, "b"), cache, separate, **change)
    assert not cached and separate.calls > calls


def test_a_damaged_entry_is_dropped_not_served(tmp_path: Path, cache: RenderCache) -> None:
    source, separate = write(tmp_path / "mix.wav"), CountingSeparator()
    render(source, outdir(tmp_path, "a"), cache, separate)
    (entry,) = [p for p in cache.directory.iterdir()]
    stem_file = entry / "target.wav"
    data = bytearray(stem_file.read_bytes())
    data[-10] ^= 0xFF
    stem_file.write_bytes(bytes(data))
    calls = separate.calls
    out = outdir(tmp_path, "b")
    rendered, cached = render(source, out, cache, separate)
    assert not cached and separate.calls > calls
    assert rendered[0].path.read_bytes() == (tmp_path / "a" / rendered[0].path.name).read_bytes()


def test_an_entry_without_its_manifest_is_a_miss(tmp_path: Path, cache: RenderCache) -> None:
    source, separate = write(tmp_path / "mix.wav"), CountingSeparator()
    render(source, outdir(tmp_path, "a"), cache, separate)
    (entry,) = list(cache.directory.iterdir())
    (entry / ENTRY_FILE).unlink()  # as if a process died while building it
    calls = separate.calls
    _, cached = render(source, outdir(tmp_path, "b"), cache, separate)
    assert not cached and separate.calls > calls


def test_the_least_recently_used_entries_are_evicted_first(tmp_path: Path) -> None:
    separate = CountingSeparator()
    probe = RenderCache(tmp_path / "probe")
    render(write(tmp_path / "probe.wav", 9), outdir(tmp_path, "p"), probe, separate)
    entry_bytes = sum(f.stat().st_size for f in next(probe.directory.iterdir()).iterdir())
    cache = RenderCache(tmp_path / "cache", max_bytes=int(2.5 * entry_bytes))
    sources = [write(tmp_path / f"m{i}.wav", i) for i in range(3)]
    for i, source in enumerate(sources[:2]):
        before = set(cache.directory.iterdir()) if cache.directory.exists() else set()
        render(source, outdir(tmp_path, f"a{i}"), cache, separate)
        (new,) = set(cache.directory.iterdir()) - before
        os.utime(new / ENTRY_FILE, (100 + i, 100 + i))  # an unambiguous order on coarse clocks
    _, cached = render(
        sources[0], outdir(tmp_path, "hit"), cache, separate
    )  # m0 becomes the most recent
    assert cached
    render(sources[2], outdir(tmp_path, "a2"), cache, separate)  # evicts m1, the least recent
    assert len(list(cache.directory.iterdir())) == 2
    assert render(sources[0], outdir(tmp_path, "c0"), cache, separate)[1]
    assert not render(sources[1], outdir(tmp_path, "c1"), cache, separate)[1]


def test_no_cache_or_a_zero_size_cache_always_renders(tmp_path: Path) -> None:
    source, separate = write(tmp_path / "mix.wav"), CountingSeparator()
    for name, cache in (("a", None), ("b", RenderCache(tmp_path / "c", max_bytes=0)), ("c", None)):
        calls = separate.calls
        assert not render(source, outdir(tmp_path, name), cache, separate)[1]
        assert separate.calls > calls


def test_two_renders_storing_one_key_at_once_both_succeed(
    tmp_path: Path, cache: RenderCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch holding two copies of one file renders both at once and both store one key:
    the later store finds the earlier entry in place and keeps it (it was an internal error)."""
    source, separate = write(tmp_path / "mix.wav"), CountingSeparator()
    rendered, _ = render(source, outdir(tmp_path, "a"), cache, separate)
    (entry,) = [p for p in cache.directory.iterdir() if not p.name.startswith(".")]
    files = {p.name: p.read_bytes() for p in entry.iterdir()}
    copy = render_cache._copy_hashed

    def copy_while_another_stores(src: Path, dest: Path) -> str:
        entry.mkdir(exist_ok=True)  # the other render's entry lands before our rename
        for name, data in files.items():
            (entry / name).write_bytes(data)
        return copy(src, dest)

    monkeypatch.setattr(render_cache, "_copy_hashed", copy_while_another_stores)
    cache.store(entry.name, rendered, 0)
    assert {p.name: p.read_bytes() for p in entry.iterdir()} == files
    assert [p.name for p in cache.directory.iterdir()] == [entry.name]  # no temp folder left
