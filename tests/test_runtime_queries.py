"""Runtime: query encoding equals model/condition.py, the embedding cache, and no torch."""

from pathlib import Path

import numpy as np
import pytest
import torch
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.host.runtime import QueryEncoder, QuerySpec, load_package
from clapsep.host.runtime.queries import condition_embedding, fit_query_audio, mix_modalities
from clapsep.model import clap, condition
from clapsep.signals import realistic_signal


def _wave_file(path: Path, seconds: float, rate: int, channels: int = 1, seed: int = 0) -> Path:
    wave = realistic_signal(seconds, rate, seed)
    with AudioFile(str(path), "w", samplerate=rate, num_channels=channels, bit_depth=32) as f:
        f.write(np.stack([wave * (0.5 + 0.5 * c) for c in range(channels)]))
    return path


@pytest.mark.parametrize("length", [1, 7, 1000, 239999, 240000, 480000, 480001, 700001])
def test_fit_query_audio_matches_the_model(length: int) -> None:
    wave = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    expected = clap.fit_query_audio(torch.from_numpy(wave)).numpy()
    np.testing.assert_array_equal(fit_query_audio(wave, 480000), expected)


def test_condition_rule_matches_the_model() -> None:
    rng = np.random.default_rng(1)
    text, audio, neg = (rng.standard_normal(512).astype(np.float32) for _ in range(3))
    for a in (0.0, 0.3, 1.0):
        mixed = mix_modalities(text, audio, a)
        expected = condition.mix_modalities(
            torch.from_numpy(text), torch.from_numpy(audio), a
        ).numpy()
        np.testing.assert_allclose(mixed, expected, rtol=1e-6)
    for pos_side, neg_side in ((text, None), (None, neg), (text, neg)):
        as_torch = [None if v is None else torch.from_numpy(v) for v in (pos_side, neg_side)]
        expected = condition.condition_embedding(*as_torch).numpy()
        np.testing.assert_allclose(
            condition_embedding(pos_side, neg_side), expected, rtol=1e-5, atol=1e-7
        )


def test_query_spec_validation() -> None:
    with pytest.raises(UserError, match="needs a text"):
        QuerySpec()
    with pytest.raises(UserError, match="between 0 and 1"):
        QuerySpec(text="dog", audio_weight=1.5)
    assert QuerySpec(audio_files=["a.wav"]).audio_files == (Path("a.wav"),)


def test_condition_mixes_text_and_shots(mini_package: Path, tmp_path: Path) -> None:
    encoder = QueryEncoder(load_package(mini_package), device="cpu")
    shots = [
        _wave_file(tmp_path / "a.wav", 3.0, 44100, channels=2, seed=1),
        _wave_file(tmp_path / "b.wav", 12.0, 48000, seed=2),
    ]
    text = encoder.text_embedding("a dog barks")
    assert text.shape == (512,) and abs(np.linalg.norm(text) - 1) < 1e-5
    audio = [encoder.audio_embedding(p) for p in shots]
    got = encoder.condition(QuerySpec("a dog barks", tuple(shots), 0.25), QuerySpec("rain"))
    expected = condition_embedding(
        0.25 * np.mean(audio, axis=0) + 0.75 * text, encoder.text_embedding("rain")
    )
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert got.shape == (1024,) and got.dtype == np.float32
    with pytest.raises(UserError, match="not found"):
        encoder.condition(QuerySpec(audio_files=(tmp_path / "missing.wav",)), None)


def test_embedding_cache_is_keyed_by_content(mini_package: Path, tmp_path: Path) -> None:
    package = load_package(mini_package)
    shot = _wave_file(tmp_path / "shot.wav", 2.0, 48000)
    first = QueryEncoder(package, device="cpu", cache_dir=tmp_path / "cache")
    text, audio = first.text_embedding("a siren"), first.audio_embedding(shot)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2
    second = QueryEncoder(package, device="cpu", cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(second.text_embedding("a siren"), text)
    np.testing.assert_array_equal(second.audio_embedding(shot), audio)
    assert not second._sessions  # served from disk, no graph opened
    _wave_file(shot, 2.0, 48000, seed=9)  # same path, new content
    assert not np.allclose(second.audio_embedding(shot), audio)


_TORCH_FREE = """
from pathlib import Path
import numpy as np
from clapsep.host.runtime import QueryEncoder, QuerySpec, Separator, load_package
package = load_package(Path(sys.argv[1]))
encoder = QueryEncoder(package, device="auto")
cond = encoder.condition(QuerySpec("a dog barks", (Path(sys.argv[2]),)), QuerySpec("rain"))
separator = Separator(package)
out = separator.separate(np.zeros((1, 32000), np.float32) + 0.01, cond[None])
assert out.shape == (1, 32000) and "torch" not in sys.modules
print("ok", separator.provider, separator.provider_note)
"""


def test_runtime_never_imports_torch(mini_package: Path, tmp_path: Path, run_without_torch) -> None:
    shot = _wave_file(tmp_path / "shot.wav", 1.5, 22050)
    result = run_without_torch(_TORCH_FREE, str(mini_package), str(shot))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok CPUExecutionProvider")
