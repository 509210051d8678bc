"""Audition with Qt Multimedia: the source (A, before) against the stems (B, after).

One `QAudioSink` pulls the mix from `ui.mixer.Mixer` through `MixDevice`, so every track
plays from the same sample: A/B, solo, mute and level changes are gain ramps, never a
restart, and a seek or a loop moves all tracks at once. A machine without an audio
output (a server, a headless test run) gets a clear status message instead of an error;
A/B, seek, loop and solo still work on the mix and the views still show.
"""

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QIODevice, QObject, QTimer, pyqtSignal
from PyQt6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices

from clapsep.host.audio_io import Section
from clapsep.ui.mixer import Mixer, Track
from clapsep.ui.waveform import file_info, load_audio, section_seconds

NO_DEVICE = (
    "No audio output device found: audition is off (the views still show the rendered files)"
)


class MixDevice(QIODevice):
    """A read-only, endless QIODevice whose bytes are the mixer's next frames."""

    def __init__(self, mixer: Mixer, sample_format: QAudioFormat.SampleFormat) -> None:
        super().__init__()
        self.mixer, self.sample_format = mixer, sample_format
        self.open(QIODevice.OpenModeFlag.ReadOnly)

    def isSequential(self) -> bool:
        return True

    def bytesAvailable(self) -> int:
        return 1 << 16 if not self.mixer.at_end() else super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:
        width = 4 if self.sample_format == QAudioFormat.SampleFormat.Float else 2
        frames = maxlen // (width * self.mixer.channels)
        if frames <= 0 or self.mixer.at_end():
            return b""
        block = self.mixer.read(frames).T
        if width == 2:
            return (np.clip(block, -1, 1) * 32767).astype("<i2").tobytes()
        return block.astype("<f4").tobytes()

    def writeData(self, data: bytes) -> int:
        return -1


class Audition(QObject):
    """Side "A" (source) or "B" (the stems); `status` says what plays or why nothing can;
    `positionChanged` gives the play position in seconds of the source file."""

    status = pyqtSignal(str)
    positionChanged = pyqtSignal(float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mixer = Mixer(rate=48000, frames=0)
        self.origin = 0.0  # file seconds of the mixer's frame 0
        self.files: dict[str, Path | None] = {"source": None}
        self.sink: QAudioSink | None = None
        self.device: MixDevice | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self._tick)

    @property
    def available(self) -> bool:
        return bool(QMediaDevices.audioOutputs())

    @property
    def side(self) -> str:
        return self.mixer.side

    def set_tracks(
        self, source: Path | None, stems: dict[str, Path | None], section: Section | None = None
    ) -> None:
        """The source (its section is the playable range) and the stems already cut to it."""
        self.stop()
        side, match = self.mixer.side, self.mixer.level_match
        self.files = {"source": source} | stems
        if source is None:
            self.mixer = Mixer(rate=48000, frames=0, side=side, level_match=match)
            self.origin = 0.0
            return
        info = file_info(source)
        start, stop = section_seconds(section, info)
        audio = load_audio(source, start, stop - start)
        tracks = {name: load_audio(path) for name, path in stems.items() if path is not None}
        channels = max([audio.shape[0], *(t.shape[0] for t in tracks.values())])
        self.mixer = Mixer(
            rate=info.rate,
            frames=audio.shape[1],
            channels=min(channels, 2),
            source=Track(audio),
            stems={name: Track(a) for name, a in tracks.items()},
            side=side,
            level_match=match,
        )
        self.origin = start
        self.positionChanged.emit(self.position())

    def describe(self) -> str:
        if self.side == "A":
            path = self.files.get("source")
            return f"A (before): {path.name if path else 'nothing loaded'}"
        names = [n for n, t in self.mixer.stems.items() if self.mixer.stem_gain(n) > 0]
        if not self.mixer.stems:
            return "B (after): nothing rendered"
        paths = [self.files[n] for n in names if self.files.get(n)]
        heard = ", ".join(p.name for p in paths) if paths else "all stems muted"
        match = " · level-matched" if self.mixer.level_match else ""
        return f"B (after): {heard}{match}"

    def toggle(self) -> None:
        """Switch between A and B at the same sample: a gain ramp, playback goes on."""
        self.mixer.side = "B" if self.mixer.side == "A" else "A"
        self.status.emit(self.describe() if self.available else NO_DEVICE)

    def set_stem(
        self,
        name: str,
        gain_db: float | None = None,
        muted: bool | None = None,
        soloed: bool | None = None,
    ) -> None:
        track = self.mixer.stems.get(name)
        if track is None:
            return
        for attr, value in (("gain_db", gain_db), ("muted", muted), ("soloed", soloed)):
            if value is not None:
                setattr(track, attr, value)
        self.mixer.changed()

    def set_level_match(self, on: bool) -> None:
        self.mixer.level_match = on

    def set_loop(self, span: tuple[float, float] | None, on: bool | None = None) -> None:
        """A loop in file seconds (None: no loop range); `on` switches looping."""
        rate = self.mixer.rate
        self.mixer.loop = (
            None
            if span is None
            else (round((span[0] - self.origin) * rate), round((span[1] - self.origin) * rate))
        )
        if on is not None:
            self.mixer.looping = on

    def position(self) -> float:
        """The play position in seconds of the source file (what is heard now)."""
        frame = self.mixer.position
        if self.sink is not None:  # what the device has not played yet is still ahead
            queued = self.sink.bufferSize() - self.sink.bytesFree()
            frame -= max(0, queued) // (self.sink.format().bytesPerFrame() or 1)
            frame = max(0, frame)
        return self.origin + frame / max(self.mixer.rate, 1)

    def seek(self, seconds: float) -> None:
        self.mixer.seek(round((seconds - self.origin) * self.mixer.rate))
        if self.playing():
            self.sink.reset()  # drop what is queued: the new position is heard at once
            self.sink.start(self.device)
        self.positionChanged.emit(self.position())

    def playing(self) -> bool:
        return self.sink is not None and self.sink.state() == QAudio.State.ActiveState

    def play_pause(self) -> None:
        if not self.available:
            self.status.emit(NO_DEVICE)
        elif self.files.get("source") is None:
            self.status.emit("Nothing to play: choose a clip")
        elif self.playing():
            self.sink.suspend()
            self.timer.stop()
        elif self.sink is not None and self.sink.state() == QAudio.State.SuspendedState:
            self.sink.resume()
            self.timer.start()
        else:
            self._start()
            self.status.emit(f"Playing {self.describe()}")

    def _start(self) -> None:
        output = QMediaDevices.defaultAudioOutput()
        fmt = QAudioFormat()
        fmt.setSampleRate(self.mixer.rate)
        fmt.setChannelCount(self.mixer.channels)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Float)
        if not output.isFormatSupported(fmt):
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if self.mixer.at_end():
            self.mixer.seek(0)
        self.device = MixDevice(self.mixer, fmt.sampleFormat())
        self.sink = QAudioSink(output, fmt, self)
        self.sink.setBufferSize(fmt.bytesForDuration(80_000))  # 80 ms: A/B is heard at once
        self.sink.start(self.device)
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
            self.device = None

    def _tick(self) -> None:
        self.positionChanged.emit(self.position())
        if (
            self.mixer.at_end()
            and self.sink is not None
            and self.sink.bytesFree() == (self.sink.bufferSize())
        ):
            self.stop()
