"""Progress on a terminal for long renders and batches: elapsed time, speed, time left.

The speed is seconds of audio per second (x real time), the unit editors think in. The
bars draw only when stderr is a terminal, so logs and `--json` runs stay clean; lines
printed while a bar is up go through it, so the bar is redrawn below them.
"""

import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from tqdm import tqdm

BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar:20}| {elapsed}<{remaining} {rate_fmt}"


class ProgressBar:
    """A tqdm bar over `seconds` of audio, fed the fraction done."""

    def __init__(
        self, label: str, seconds: float, enabled: bool, stream: TextIO | None = None
    ) -> None:
        stream = stream or sys.stderr
        self.seconds = seconds
        self.stream = stream
        self.bar = None
        if enabled and stream.isatty():
            self.bar = tqdm(
                total=round(seconds, 1),
                desc=label[:40],
                unit="s audio",
                unit_scale=False,
                bar_format=BAR_FORMAT,
                file=stream,
                leave=True,
            )

    def __call__(self, fraction: float) -> None:
        if self.bar is not None:
            self.bar.update(round(fraction * self.seconds, 1) - self.bar.n)

    def write(self, line: str) -> None:
        """Print a line above the bar (or plainly when there is none)."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class BatchProgress:
    """One bar for a batch: the inputs' fractions weighted by their lengths in seconds.

    `render_many` reports per input, from several worker threads at once."""

    def __init__(
        self, seconds: Sequence[float], enabled: bool, stream: TextIO | None = None
    ) -> None:
        self.seconds = list(seconds)
        total = sum(self.seconds)
        self.bar = ProgressBar(f"{len(self.seconds)} files", total, enabled, stream)
        self._done = [0.0] * len(self.seconds)
        self._total = total or 1.0
        self._lock = threading.Lock()

    def __call__(self, index: int, fraction: float) -> None:
        with self._lock:
            self._done[index] = max(self._done[index], fraction)
            done = sum(f * s for f, s in zip(self._done, self.seconds, strict=True))
            self.bar(done / self._total)

    def write(self, line: str) -> None:
        with self._lock:
            self.bar.write(line)

    def close(self) -> None:
        self.bar.close()
