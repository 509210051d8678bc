"""A/B audition of the source (A, before) and the target stem (B, after) with Qt Multimedia.

Switching sides keeps the play position, so the ear compares the same moment. A
machine without an audio output (a server, a headless test run) gets a clear status
message instead of an error; the A/B choice still works and the views still show.
"""

from pathlib import Path

from PyQt6.QtCore import QObject, QUrl, pyqtSignal
from PyQt6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

NO_DEVICE = (
    "No audio output device found: audition is off (the views still show the rendered files)"
)


class Audition(QObject):
    """Plays side "A" (source) or "B" (target); `status` says what is playing or why nothing can."""

    status = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = "A"
        self.files: dict[str, Path | None] = {"A": None, "B": None}
        self.offsets_ms = {"A": 0, "B": 0}  # where the clip starts inside each file
        self.player: QMediaPlayer | None = None
        if QMediaDevices.audioOutputs():
            self.player = QMediaPlayer(self)
            self.output = QAudioOutput(self)
            self.player.setAudioOutput(self.output)
            self.player.errorOccurred.connect(
                lambda _e, text: self.status.emit(f"Audition error: {text}")
            )

    @property
    def available(self) -> bool:
        return self.player is not None

    def set_pair(self, source: Path | None, target: Path | None, source_offset_ms: int = 0) -> None:
        """The files to compare; the source may hold the clip at an offset (a DAW section)."""
        self.stop()
        self.files = {"A": source, "B": target}
        self.offsets_ms = {"A": source_offset_ms, "B": 0}
        self._load()

    def describe(self) -> str:
        path = self.files[self.side]
        name = path.name if path else "nothing rendered"
        return f"{self.side} ({'before' if self.side == 'A' else 'after'}): {name}"

    def toggle(self) -> None:
        """Switch between A and B at the same position in the clip."""
        playing = (
            self.available
            and self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        )
        position = self.player.position() - self.offsets_ms[self.side] if self.available else 0
        self.side = "B" if self.side == "A" else "A"
        self._load()
        if self.available and self.files[self.side]:
            self.player.setPosition(max(0, position) + self.offsets_ms[self.side])
            if playing:
                self.player.play()
        self.status.emit(self.describe() if self.available else NO_DEVICE)

    def play_pause(self) -> None:
        if not self.available:
            self.status.emit(NO_DEVICE)
        elif self.files[self.side] is None:
            self.status.emit(f"Nothing to play on side {self.side}: render the clip first")
        elif self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()
            self.status.emit(f"Playing {self.describe()}")

    def stop(self) -> None:
        if self.available:
            self.player.stop()

    def _load(self) -> None:
        if self.available:
            path = self.files[self.side]
            self.player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())
            self.player.setPosition(self.offsets_ms[self.side])
