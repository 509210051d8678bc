"""render_file end to end on real files, with identity and simple deterministic separators.

The separators here (identity, a gain, an FFT low-pass, silence) are legitimate models
for the I/O and windowing logic; the ONNX session plugs into the same `SeparateFn`.
Small windows (0.25 s at 32 kHz) put many window seams into short files.
"""

import hashlib
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.host.audio_io import Section, SourceReader
from clapsep.host.render import Cancelled, RenderSettings, output_name, render_file

SMALL = {
    "model_rate": 32000,
    "window": 8000,
    "overlap": 2000,
    "batch_size": 3,
    "block_frames": 5000,
}


def settings(**kwargs: object) -> RenderSettings:
    return RenderSettings(**{**SMALL, **kwargs})


def identity(batch: np.ndarray) -> np.ndarray:
    return batch


def silence(batch: np.ndarray) -> np.ndarray:
    return np.zeros_like(batch)


def lowpass(batch: np.ndarray) -> np.ndarray:
    """Keeps what lies below 2 kHz in each window: a crude 'isolate the bass' model."""
    spec = np.fft.rfft(batch, axis=-1)
    spec[:, int(2000 / 16000 * spec.shape[-1]) :] = 0
    return np.fft.irfft(spec, n=batch.shape[-1], axis=-1).astype(np.float32)


def signal(rate: int, frames: int, channels: int) -> np.ndarray:
    """Tones and a chirp, different per channel; 20 ms fades keep it band-limited."""
    t = np.arange(frames) / rate
    rows = [
        0.3 * np.sin(2 * np.pi * 220 * (c + 1) * t) + 0.2 * np.sin(2 * np.pi * (100 + 1500 * t) * t)
        for c in range(channels)
    ]
    fade = np.clip(np.minimum(np.arange(frames), np.arange(frames)[::-1]) / (0.02 * rate), 0, 1)
    return (np.stack(rows) * fade).astype(np.float32)


def write(path: Path, x: np.ndarray, rate: int, **kwargs: object) -> Path:
    with AudioFile(str(path), "w", rate, x.shape[0], **kwargs) as f:
        f.write(x)
    return path


def read(path: Path) -> tuple[np.ndarray, int]:
    with AudioFile(str(path)) as f:
        return f.read(f.frames), round(f.samplerate)


def decoded(path: Path) -> np.ndarray:
    """A source as the render reads it (integer PCM on libsndfile's scale, not pedalboard's)."""
    with SourceReader(path) as reader:
        return np.concatenate(list(reader.blocks()), axis=1)


def stems(rendered: list) -> dict[str, np.ndarray]:
    return {r.stem: read(r.path)[0] for r in rendered}


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("rate", "frames"),
    [(44100, 44101 * 2 + 1), (48000, 77777), (96000, 96001), (22050, 33333), (32000, 40001)],
)
def test_exact_length_channels_and_identity_at_every_rate(
    tmp_path: Path, out_dir: Path, rate: int, frames: int
) -> None:
    x = signal(rate, frames, 2)
    source = write(tmp_path / "mix.wav", x, rate, bit_depth=32)
    rendered = render_file(source, out_dir, identity, "same", settings())
    assert [(r.stem, r.frames, r.sample_rate, r.channels) for r in rendered] == [
        ("target", frames, rate, 2),
        ("residual", frames, rate, 2),
    ]
    out = stems(rendered)
    assert out["target"].shape == x.shape == out["residual"].shape
    np.testing.assert_allclose(out["target"] + out["residual"], x, atol=1e-6, rtol=0)
    # Resampling to 32 kHz and back keeps this band-limited signal in place.
    np.testing.assert_allclose(out["target"], x, atol=2e-4 if rate != 32000 else 1e-6, rtol=0)


def test_identity_at_the_model_rate_is_exact_across_window_seams(
    tmp_path: Path, out_dir: Path
) -> None:
    x = np.random.default_rng(5).uniform(-0.9, 0.9, (2, 8000 * 7 + 123)).astype(np.float32)
    source = write(tmp_path / "noise.wav", x, 32000, bit_depth=32)
    out = stems(render_file(source, out_dir, identity, "same", settings(stems=("target",))))
    np.testing.assert_allclose(out["target"], x, atol=2e-7, rtol=0)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    text = "Separate the voice from the noise, and give every frame back in its place."
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


def test_speech_over_noise_splits_and_sums_back(
    tmp_path: Path, out_dir: Path, speech: Path
) -> None:
    voice, rate = read(speech)
    mix = voice + 0.05 * np.random.default_rng(0).standard_normal(voice.shape).astype(np.float32)
    source = write(tmp_path / "voice over noise.flac", np.repeat(mix, 2, axis=0), rate)
    x = decoded(source)
    out = stems(render_file(source, out_dir, lowpass, "below 2k", settings()))
    np.testing.assert_allclose(out["target"] + out["residual"], x, atol=1e-6, rtol=0)

    def above_3k(y: np.ndarray) -> float:
        return float(np.abs(np.fft.rfft(y[0]))[np.fft.rfftfreq(y.shape[1], 1 / rate) > 3000].mean())

    assert above_3k(out["target"]) < 0.05 * above_3k(x)
    assert above_3k(out["residual"]) > 0.9 * above_3k(x)


@pytest.mark.parametrize(("ext", "kwargs"), [("mp3", {}), ("ogg", {}), ("aiff", {}), ("flac", {})])
def test_compressed_and_other_formats_return_wav_of_the_decoded_length(
    tmp_path: Path, out_dir: Path, ext: str, kwargs: dict
) -> None:
    source = write(tmp_path / f"mix.{ext}", signal(44100, 30001, 2), 44100, **kwargs)
    x = decoded(source)
    rendered = render_file(source, out_dir, identity, "q", settings())
    assert all(r.path.suffix == ".wav" and r.frames == x.shape[1] for r in rendered)
    out = stems(rendered)
    np.testing.assert_allclose(out["target"] + out["residual"], x, atol=1e-6, rtol=0)


def test_eight_channels_stay_eight(tmp_path: Path, out_dir: Path) -> None:
    x = signal(48000, 20001, 8)
    source = write(tmp_path / "octo.wav", x, 48000, bit_depth=32)
    out = stems(
        render_file(source, out_dir, lambda b: 0.5 * b, "half", settings(stems=("target",)))
    )
    assert out["target"].shape == (8, 20001)
    np.testing.assert_allclose(out["target"], 0.5 * x, atol=2e-4, rtol=0)


def test_mono_and_mid_side_modes(tmp_path: Path, out_dir: Path) -> None:
    x = signal(32000, 30001, 2)
    source = write(tmp_path / "st.wav", x, 32000, bit_depth=32)
    mono = stems(
        render_file(source, out_dir, lambda b: 0.5 * b, "mono", settings(channel_mode="mono"))
    )
    np.testing.assert_allclose(
        mono["target"], np.repeat(0.5 * x.mean(axis=0, keepdims=True), 2, axis=0), atol=1e-6
    )
    np.testing.assert_allclose(mono["target"] + mono["residual"], x, atol=1e-6)
    ms = stems(render_file(source, out_dir, identity, "ms", settings(channel_mode="mid-side")))
    np.testing.assert_allclose(ms["target"], x, atol=1e-6)
    mono_source = write(tmp_path / "mono.wav", x[:1], 32000)
    with pytest.raises(UserError, match="stereo"):
        render_file(mono_source, out_dir, identity, "ms", settings(channel_mode="mid-side"))


def test_attenuation_floor_and_gains(tmp_path: Path, out_dir: Path) -> None:
    x = signal(48000, 24000, 2)
    source = write(tmp_path / "mix.wav", x, 48000, bit_depth=32)
    out = stems(render_file(source, out_dir, silence, "none", settings(atten_limit_db=12.0)))
    floor = 10 ** (-12 / 20)
    np.testing.assert_allclose(out["target"], floor * x, atol=1e-6)
    np.testing.assert_allclose(out["residual"], (1 - floor) * x, atol=1e-6)
    gained = stems(
        render_file(source, out_dir, silence, "gain", settings(gains_db={"residual": -6.0}))
    )
    np.testing.assert_allclose(gained["residual"], 10 ** (-6 / 20) * x, atol=1e-6)


@pytest.mark.parametrize(
    ("section", "first", "stop"),
    [(Section(0.25, 0.75), 8000, 24000), (Section(12345, 23456, unit="samples"), 12345, 23456)],
)
def test_a_section_renders_only_that_part(
    tmp_path: Path, out_dir: Path, section: Section, first: int, stop: int
) -> None:
    x = signal(32000, 40000, 2)
    source = write(tmp_path / "mix.wav", x, 32000, bit_depth=32)
    rendered = render_file(source, out_dir, identity, "part", settings(section=section))
    assert rendered[0].path.name == f"mix_{first}-{stop}_part_target.wav"
    np.testing.assert_allclose(stems(rendered)["target"], x[:, first:stop], atol=1e-6)


def test_one_frame_file(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path / "one.wav", np.full((2, 1), 0.5, np.float32), 44100, bit_depth=32)
    out = stems(render_file(source, out_dir, identity, "one", settings()))
    assert out["target"].shape == (2, 1)
    np.testing.assert_allclose(out["target"] + out["residual"], 0.5, atol=1e-6)


def broken_sources(tmp_path: Path) -> dict[str, Path]:
    nan = signal(48000, 20000, 2)
    nan[0, 15000] = np.nan
    good = write(tmp_path / "good.wav", signal(48000, 20000, 2), 48000)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:30000])
    (tmp_path / "text.wav").write_text("not audio at all " * 100)
    return {
        "NaN": write(tmp_path / "nan.wav", nan, 48000, bit_depth=32),
        "no audio frames": write(tmp_path / "zero.wav", np.zeros((1, 0), np.float32), 48000),
        "truncated": truncated,
        "cannot read": tmp_path / "text.wav",
    }


def test_bad_sources_give_clear_errors_and_leave_no_files(tmp_path: Path, out_dir: Path) -> None:
    for message, source in broken_sources(tmp_path).items():
        with pytest.raises(UserError, match=message):
            render_file(source, out_dir, identity, "q", settings(block_frames=4000))
        assert list(out_dir.iterdir()) == [], message


def test_existing_output_is_kept_unless_overwrite(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path / "mix.wav", signal(48000, 10000, 1), 48000)
    taken = out_dir / "mix_q_residual.wav"
    taken.write_bytes(b"an earlier render")
    with pytest.raises(UserError, match="already exists"):
        render_file(source, out_dir, identity, "q", settings())
    assert taken.read_bytes() == b"an earlier render"
    assert [p.name for p in out_dir.iterdir()] == ["mix_q_residual.wav"]
    render_file(source, out_dir, identity, "q", settings(overwrite=True))
    assert read(taken)[0].shape == (1, 10000)


def test_cancelled_render_leaves_nothing(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path / "long.wav", signal(48000, 48000 * 3, 2), 48000)
    calls = []

    def counting(batch: np.ndarray) -> np.ndarray:
        calls.append(1)
        return batch

    with pytest.raises(Cancelled):
        render_file(source, out_dir, counting, "q", settings(), cancel=lambda: len(calls) >= 3)
    assert len(calls) == 3
    assert list(out_dir.iterdir()) == []


def test_a_separator_returning_nan_is_an_error_not_a_file(tmp_path: Path, out_dir: Path) -> None:
    source = write(tmp_path / "mix.wav", signal(32000, 20000, 1), 32000)
    with pytest.raises(RuntimeError, match="NaN"):
        render_file(source, out_dir, lambda b: b * np.nan, "q", settings())
    assert list(out_dir.iterdir()) == []


def test_progress_source_untouched_and_24_bit(tmp_path: Path, out_dir: Path) -> None:
    folder = tmp_path / "Séance d'été ♫"
    folder.mkdir()
    source = write(folder / "prise 1 – ça.wav", signal(44100, 50001, 2), 44100)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    seen: list[float] = []
    rendered = render_file(
        source, out_dir, identity, "voix / bruit", settings(bit_depth=24), progress=seen.append
    )
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3
    assert hashlib.sha256(source.read_bytes()).hexdigest() == digest
    assert [r.path.name for r in rendered] == [
        "prise 1 – ça_voix _ bruit_target.wav",
        "prise 1 – ça_voix _ bruit_residual.wav",
    ]
    with AudioFile(str(rendered[0].path)) as f:
        assert f.file_dtype == "int24"


def test_name_templates(tmp_path: Path) -> None:
    source = tmp_path / "take.wav"
    assert output_name(source, "dog bark", "target") == "take_dog bark_target.wav"
    assert output_name(source, "x", "residual", "{stem}-{name}.WAV") == "residual-take.WAV"
    with pytest.raises(UserError, match="unknown field"):
        output_name(source, "x", "target", "{name}_{query}")
    write(source, signal(48000, 100, 1), 48000)
    with pytest.raises(UserError, match="same file name"):
        render_file(source, tmp_path, identity, "x", settings(name_template="{name}_fixed"))
    with pytest.raises(UserError, match="replace the source"):
        render_file(
            source, tmp_path, identity, "x", settings(stems=("target",), name_template="{name}")
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"stems": ()},
        {"stems": ("vocals",)},
        {"channel_mode": "surround"},
        {"atten_limit_db": -3.0},
        {"gains_db": {"drums": 1.0}},
        {"overlap": 5000},
        {"batch_size": 0},
    ],
)
def test_invalid_settings_are_user_errors(bad: dict) -> None:
    with pytest.raises(UserError):
        settings(**bad)


def test_memory_does_not_grow_with_file_length(tmp_path: Path, out_dir: Path) -> None:
    def peak(seconds: int) -> int:
        source = write(tmp_path / f"{seconds}s.wav", signal(48000, 48000 * seconds, 1), 48000)
        tracemalloc.start()
        render_file(source, out_dir, identity, "mem", settings(stems=("residual",)))
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak_bytes

    short, long = peak(4), peak(40)
    assert long < 1.5 * short + 200_000
    assert long < 48000 * 40 * 4 / 4  # far below a quarter of the decoded file
