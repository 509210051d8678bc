"""Effect chains: specs from JSON, exact length through latency, and their place in a render."""

from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.host.chains import EffectSpec, StreamingChain, parse_chain
from clapsep.host.render import RenderSettings, render_file

RATE = 48000


def noise(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((channels, frames)) * 0.1).astype(
        np.float32
    )


def stream(chain: StreamingChain, x: np.ndarray, block: int) -> np.ndarray:
    parts = [chain.push(x[:, i : i + block]) for i in range(0, x.shape[1], block)]
    return np.concatenate([*parts, chain.finish()], axis=1)


def test_specs_round_trip_through_json() -> None:
    data = [
        {"effect": "Compressor", "params": {"threshold_db": -20.0, "ratio": 4.0}},
        {"plugin": "/plugins/EQ.vst3", "plugin_name": "EQ Mono", "params": {"gain": 0.5}},
    ]
    chain = parse_chain(data)
    assert [spec.label for spec in chain] == ["Compressor", "EQ.vst3"]
    assert [spec.to_json() for spec in chain] == data
    assert parse_chain(None) == ()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"effect": "Fuzz"}, "unknown effect 'Fuzz'"),
        ({"effect": "Gain", "plugin": "x.vst3"}, "exactly one"),
        ({"params": {}}, "exactly one"),
        ({"effect": "Gain", "colour": "red"}, "must be an object"),
        ("Gain", "must be an object"),
    ],
)
def test_bad_specs_are_user_errors(data: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_chain([data])


def test_bad_parameters_and_missing_plugins_fail_when_the_chain_is_built(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot set up Gain"):
        StreamingChain(parse_chain([{"effect": "Gain", "params": {"loudness": 3}}]), RATE, 2, 100)
    with pytest.raises(UserError, match="plugin not found"):
        StreamingChain(parse_chain([{"plugin": str(tmp_path / "None.vst3")}]), RATE, 2, 100)


def test_an_empty_chain_passes_audio_through_untouched() -> None:
    x = noise(10007)
    np.testing.assert_array_equal(stream(StreamingChain((), RATE, 2, x.shape[1]), x, 4096), x)


@pytest.mark.parametrize("effect", ["Gain", "MP3Compressor", "GSMFullRateCompressor", "Reverb"])
@pytest.mark.parametrize("block", [1, 64, 65, 8193])
def test_chains_keep_the_frame_count_exact_whatever_the_block_size(effect: str, block: int) -> None:
    frames = 20011 if block > 1 else 3001
    chain = StreamingChain(parse_chain([{"effect": effect}]), RATE, 2, frames)
    out = stream(chain, noise(frames), block)
    assert out.shape == (2, frames)
    assert out.dtype == np.float32


def test_latency_is_compensated_so_the_output_stays_aligned() -> None:
    """MP3 encoding delays its output; the chain must hand it back in place."""
    x = noise(96000, channels=1)
    y = stream(
        StreamingChain(
            parse_chain([{"effect": "MP3Compressor", "params": {"vbr_quality": 0}}]),
            RATE,
            1,
            x.shape[1],
        ),
        x,
        5000,
    )
    mid = slice(20000, 60000)
    lags = range(-2000, 2001)
    corr = [float(np.dot(x[0, mid], y[0, mid.start + lag : mid.stop + lag])) for lag in lags]
    assert lags[int(np.argmax(corr))] == 0


def write(path: Path, x: np.ndarray, rate: int = RATE) -> Path:
    with AudioFile(str(path), "w", rate, x.shape[0]) as f:
        f.write(x)
    return path


def read(path: Path) -> np.ndarray:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


def test_a_render_runs_the_pre_chain_before_the_model_and_the_post_chain_on_each_stem(
    tmp_path: Path,
) -> None:
    x = noise(30000)
    source = write(tmp_path / "mix.wav", x)
    half = (EffectSpec(effect="Gain", params={"gain_db": -6.0206}),)
    settings = RenderSettings(
        window=8000, overlap=2000, block_frames=7000, model_rate=RATE, pre_chain=half
    )
    target, residual = render_file(source, tmp_path, lambda b: b * 0.25, "q", settings)
    np.testing.assert_allclose(read(target.path), 0.125 * x, atol=2e-5)
    np.testing.assert_allclose(read(residual.path), 0.375 * x, atol=2e-5)

    settings = RenderSettings(
        window=8000,
        overlap=2000,
        model_rate=RATE,
        post_chain=parse_chain([{"effect": "MP3Compressor"}]),
        name_template="{name}_post_{stem}",
    )
    for stem in render_file(source, tmp_path, lambda b: b * 0.25, "q", settings):
        assert read(stem.path).shape == x.shape


def test_a_pre_chain_with_latency_keeps_the_stems_aligned_with_what_the_model_saw(
    tmp_path: Path,
) -> None:
    x = noise(30000)
    source = write(tmp_path / "mix.wav", x)
    settings = RenderSettings(
        window=8000,
        overlap=2000,
        block_frames=7000,
        model_rate=RATE,
        pre_chain=parse_chain([{"effect": "MP3Compressor"}]),
    )
    target, residual = (
        read(stem.path) for stem in render_file(source, tmp_path, lambda b: b * 0.25, "q", settings)
    )
    assert target.shape == residual.shape == x.shape
    np.testing.assert_allclose(residual, 3 * target, atol=1e-4)
    assert np.abs(target).max() > 0.01
