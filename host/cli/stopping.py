"""Stopping a command on SIGTERM or SIGINT (Ctrl-C) without leaving temp files behind.

Python's default SIGTERM ends the process on the spot, with no `finally` run, so the hidden
temp files of the stems being written stay; its default SIGINT raises `KeyboardInterrupt`
wherever the main thread happens to be. Inside `stop_on_signals()` both signals are
handled alike: outside a render they raise `Stopped` at once (there is nothing half
written), and inside `Stop.deferred()` (a render) the first one only sets the flag that the
render polls as its `cancel` callback, so the render stops at its next batch or block
through its ordinary clean-up (every temp file removed) and the command then raises
`Stopped`. A second signal during that clean-up raises at once, for a user who will not
wait; temp files that a process killed outright leaves are swept by the next run
(`clapsep.files.sweep_stale_temps`).
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(KeyboardInterrupt):
    """The command was told to stop by a signal; `exit_code` is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


class Stop:
    """Whether a stop signal came; call it (`cancel=stop`) to poll."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._deferring = 0

    def __call__(self) -> bool:
        return self.signum is not None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if not (first and self._deferring):
            raise Stopped(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside, the first signal only sets the flag (the render polls it and cleans up)."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1

    def check(self) -> None:
        """Raise `Stopped` if a signal came."""
        if self.signum is not None:
            raise Stopped(self.signum)


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """Handle SIGTERM and SIGINT as `Stop` says while inside; the previous handlers after.

    Signal handlers belong to the main thread: called from another thread (a test, an
    embedding application) it installs nothing and the flag never turns true.
    """
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, stop.handle) for signum in SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
