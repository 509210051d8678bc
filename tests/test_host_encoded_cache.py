"""The engine's memory of encoded windows: a changed query on a clip it has encoded runs
only the decoder, gives the same stems as a fresh engine, and stays within its budget."""

from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.host.encoded_cache import EncodedCache
from clapsep.host.engine import Engine, RenderInput
from clapsep.host.presets import Preset

RATE = 48000


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    noise = np.random.default_rng(7).standard_normal((2, 14 * RATE)).astype(np.float32)
    path = tmp_path / "clip.wav"
    with AudioFile(str(path), "w", RATE, 2, bit_depth=32) as f:
        f.write(0.1 * noise)
    return path


def _render(engine: Engine, clip: Path, text: str, out: Path) -> list[np.ndarray]:
    request = engine.prepare(Preset(name=text, positive_text=text))
    stems, _ = engine.render(request, RenderInput(clip, out))
    result = []
    for stem in stems:
        with AudioFile(str(stem.path)) as f:
            result.append(f.read(f.frames))
    return result


def test_a_changed_query_on_an_encoded_clip_skips_the_encoder_and_matches_a_fresh_render(
    package: Path, clip: Path, tmp_path: Path
) -> None:
    engine = Engine(package, "cpu", encoded_cache_mb=256)
    _render(engine, clip, "a dog barks", tmp_path / "first")
    assert engine.encoded is not None and engine.encoded.hits == 0
    batches = engine.encoded.misses
    second = _render(engine, clip, "rain on a roof", tmp_path / "second")
    assert (engine.encoded.hits, engine.encoded.misses) == (batches, batches)
    fresh = _render(Engine(package, "cpu"), clip, "rain on a roof", tmp_path / "fresh")
    for kept, plain in zip(second, fresh, strict=True):
        np.testing.assert_array_equal(kept, plain)


def test_the_encoded_cache_drops_the_least_recently_used_batches_past_its_budget(
    package: Path,
) -> None:
    engine = Engine(package, "cpu")
    rate = engine.package.sample_rate
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((1, 2 * rate)).astype(np.float32) for _ in range(3)]
    one = engine.separator.encode(batches[0])
    size = one.mixture.nbytes + one.sounding.nbytes + sum(a.nbytes for a in one.inputs.values())
    cache = EncodedCache(2 * size)
    for batch in (*batches, batches[2]):
        cache.encode(batch, engine.separator.encode)
    assert cache.size_bytes <= 2 * size and (cache.hits, cache.misses) == (1, 3)
    cache.encode(batches[0], engine.separator.encode)  # the oldest was dropped
    assert (cache.hits, cache.misses) == (1, 4)
