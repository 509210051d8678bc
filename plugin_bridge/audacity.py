r"""A client for Audacity's mod-script-pipe: send a scripting command, read its reply.

Audacity (with Edit > Preferences > Modules > mod-script-pipe "Enabled", then a restart)
opens two named pipes per user: it reads commands from `audacity_script_pipe.to.<uid>`
and answers on `audacity_script_pipe.from.<uid>`, each reply ending with a
`BatchCommand finished: OK|Failed` line and an empty line. Commands sent while Audacity
is still starting can be dropped, so `connect` probes until one is answered. Every wait
has a deadline: a closed, busy or frozen Audacity gives a `UserError`, never a hang. While
Audacity shows a modal dialog it answers nothing, so the error says to close it.

Linux and macOS only: Windows Audacity serves `\\.\pipe\ToSrvPipe` / `FromSrvPipe`,
which this client does not open (`pipe_paths` says so).
"""

import json
import os
import select
import sys
import time
from pathlib import Path
from typing import Any

from clapsep.errors import UserError

FINISHED = "BatchCommand finished: "
PROBE = "Help: Command=Help Format=Brief"
BUSY_HINT = "close the open dialog in Audacity (or let it finish what it is doing), then run again"


def pipe_paths() -> tuple[Path, Path]:
    """(commands to Audacity, replies from Audacity) for this user."""
    if sys.platform == "win32":
        raise UserError(
            "the Audacity bridge needs Linux or macOS (Windows pipes are not supported yet)"
        )
    uid = os.getuid()
    return Path(f"/tmp/audacity_script_pipe.to.{uid}"), Path(
        f"/tmp/audacity_script_pipe.from.{uid}"
    )


def quoted(value: str) -> str:
    """A parameter value Audacity's command parser reads back whole (spaces included)."""
    return '"' + value.replace('"', "'") + '"'


class AudacityPipe:
    """One connection to a running Audacity."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._to_fd = self._from_fd = -1
        self._buffer = b""

    def connect(self, wait: float = 30.0, probe_timeout: float = 5.0) -> "AudacityPipe":
        """Open both pipes and wait until Audacity answers a probe (within `wait` seconds;
        each probe waits at most `probe_timeout`, and never past `wait`).

        Audacity closes and reopens its end after each client leaves; a client that opens
        the pipe in that moment writes into a closed pipe, so it opens both pipes again."""
        deadline = time.monotonic() + wait
        while True:
            self._open_pipes(deadline)
            try:
                left = max(deadline - time.monotonic(), 0.5)
                self.command(PROBE, timeout=min(probe_timeout, left))
                return self
            except (UserError, BrokenPipeError) as error:
                self.close()
                if time.monotonic() > deadline:
                    if isinstance(error, UserError):
                        raise
                    raise UserError("Audacity keeps closing its script pipe") from None
                self._buffer = b""
                time.sleep(0.1)

    def _open_pipes(self, deadline: float) -> None:
        to_path, from_path = pipe_paths()
        while self._to_fd < 0:
            try:
                self._to_fd = os.open(
                    to_path, os.O_WRONLY | os.O_NONBLOCK
                )  # ENXIO until Audacity reads
            except (FileNotFoundError, OSError):
                if time.monotonic() > deadline:
                    raise UserError(
                        f"Audacity's script pipe {to_path} is not open: start Audacity and enable "
                        "mod-script-pipe (Edit > Preferences > Modules), then restart it"
                    ) from None
                time.sleep(0.1)
        os.set_blocking(self._to_fd, True)
        self._from_fd = os.open(from_path, os.O_RDONLY | os.O_NONBLOCK)

    def close(self) -> None:
        for fd in (self._to_fd, self._from_fd):
            if fd >= 0:
                os.close(fd)
        self._to_fd = self._from_fd = -1

    def __enter__(self) -> "AudacityPipe":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def command(self, text: str, timeout: float | None = None) -> str:
        """Run one command; its reply without the status line. Raises `UserError` on Failed."""
        try:
            os.write(self._to_fd, (text + "\n").encode())
        except BrokenPipeError:
            if text == PROBE:
                raise
            raise UserError("Audacity closed its script pipe: is it still running?") from None
        reply, status = self._read_reply(text, self.timeout if timeout is None else timeout)
        if status != "OK":
            raise UserError(f"Audacity refused {text!r}: {reply.strip() or status}")
        return reply

    def json(self, text: str) -> Any:
        reply = self.command(text)
        try:
            return json.loads(reply)
        except json.JSONDecodeError:
            raise UserError(f"Audacity's reply to {text!r} is not JSON: {reply[:200]!r}") from None

    def _read_reply(self, text: str, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            decoded = self._buffer.decode("utf-8", errors="replace")
            at = decoded.find(FINISHED)
            end = decoded.find("\n\n", at) if at >= 0 else -1
            if end >= 0:
                self._buffer = decoded[end + 2 :].encode()
                return decoded[:at].strip("\n"), decoded[at + len(FINISHED) : end].strip()
            left = deadline - time.monotonic()
            if left <= 0:
                raise UserError(
                    f"Audacity did not answer {text.split(':')[0]!r} within {timeout:g} s: "
                    + BUSY_HINT
                )
            if select.select([self._from_fd], [], [], min(left, 0.2))[0]:
                chunk = os.read(self._from_fd, 1 << 16)
                if chunk:
                    self._buffer += chunk
                else:
                    time.sleep(
                        0.05
                    )  # no writer yet: Audacity opens its end after reading a command
