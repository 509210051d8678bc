"""The service's job queue: one worker thread, one JSON file per job, nothing silently lost.

Every state change is written atomically to `<state>/<id>.json` before it is visible, so
after a crash or restart the store says what each job was doing. On start, queued jobs
are queued again and a job that was running is rendered again (stems are committed
atomically, so a half-written one never exists); one found running `MAX_ATTEMPTS` times
is failed instead, so a job that kills the process cannot loop. A job that raises is
failed with its error and the worker goes on; cancel stops it before the next batch.
Clients are never waited on: a job runs whether or not anyone polls it.

A normal stop (`stop()`: SIGTERM or Ctrl-C on `clapsep serve`) is not a cancel: the
running job is interrupted before its next batch, its partial outputs are removed and it
is stored `queued` again (that attempt not counted), and no waiting job starts, so all of
them run after the next start. Only `cancel()` marks a job `cancelled`.
"""

import logging
import queue
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.files import sweep_stale_temps, write_json_atomic
from clapsep.host.engine import Engine
from clapsep.host.presets import PresetLibrary, read_json
from clapsep.host.windowing import Cancelled
from clapsep.plugin_bridge.jobs import JobClipResult, JobSpec, result_manifest, run_job

MAX_ATTEMPTS = 2
FINISHED = ("done", "failed", "cancelled")
log = logging.getLogger("clapsep.serve")


@dataclass
class JobRecord:
    """A job and what became of it (the file format of the store)."""

    id: str
    spec: dict[str, Any]
    status: str = "queued"
    progress: float = 0.0
    error: str | None = None
    attempts: int = 0
    created: float = field(default_factory=time.time)
    finished: float | None = None
    clips: list[dict[str, Any]] = field(default_factory=list)
    recovered: bool = False

    def status_view(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("spec", "clips")}


class JobQueue:
    """Runs jobs one at a time on `engine` in a worker thread."""

    def __init__(
        self,
        engine: Engine,
        state_dir: Path,
        render_dir: Path,
        max_queued: int = 64,
        library: PresetLibrary | None = None,
    ) -> None:
        self.engine, self.state_dir, self.render_dir = engine, state_dir, render_dir
        self.max_queued, self.library = max_queued, library
        self._jobs: dict[str, JobRecord] = {}
        self._cancel: set[str] = set()
        self._stopping = threading.Event()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        state_dir.mkdir(parents=True, exist_ok=True)
        render_dir.mkdir(parents=True, exist_ok=True)
        self._sweep(time.time())
        self._recover()

    def _sweep(self, started: float) -> None:
        """Remove the temp files a service killed outright left in its data folders: job
        records half written, stems of jobs that will not run again (older than `started`)."""
        folders = [self.state_dir, *(p for p in self.render_dir.rglob("*") if p.is_dir())]
        for folder in [self.render_dir, *folders]:
            for path in sweep_stale_temps(folder, started):
                log.warning("removed %s, left by a service that was killed", path)

    def _recover(self) -> None:
        records = []
        for path in self.state_dir.glob("*.json"):
            try:
                records.append(JobRecord(**read_json(path)))
            except (UserError, TypeError) as exc:
                log.warning("ignoring unreadable job file %s: %s", path, exc)
        for record in sorted(records, key=lambda r: r.created):  # submission order
            self._jobs[record.id] = record
            if record.status == "running" and record.attempts >= MAX_ATTEMPTS:
                self._finish(
                    record,
                    "failed",
                    f"the service stopped {record.attempts} times while rendering this job",
                )
            elif record.status in ("queued", "running"):
                record.status, record.progress, record.recovered = "queued", 0.0, True
                self._save(record)
                self._queue.put(record.id)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="clapsep-render", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Interrupt the running job and end the worker, starting no other job.

        The interrupted job and the waiting ones stay `queued` in the store and run after
        the next start. A job still inside a batch after `timeout` stays `running` there and
        is treated at the next start like one the service was killed during.
        """
        with self._lock:  # the worker checks this under the lock before starting a job
            self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, spec: JobSpec) -> JobRecord:
        with self._lock:
            if (waiting := self.waiting()) >= self.max_queued:
                raise OverflowError(
                    f"{waiting} jobs are waiting; try again when some have finished"
                )
            record = JobRecord(id=uuid.uuid4().hex, spec=spec.model_dump(mode="json"))
            self._jobs[record.id] = record
            self._save(record)
        self._queue.put(record.id)
        return record

    def waiting(self) -> int:
        """Jobs queued or running."""
        return sum(j.status in ("queued", "running") for j in list(self._jobs.values()))

    def get(self, job_id: str) -> JobRecord | None:
        return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> JobRecord | None:
        with self._lock:
            record = self._jobs.get(job_id)
            if record is None or record.status in FINISHED:
                return record
            if record.status == "queued":
                self._finish(record, "cancelled", "cancelled")
            else:
                self._cancel.add(job_id)
            return record

    def result(self, record: JobRecord) -> dict[str, Any]:
        clips = [JobClipResult(**c) for c in record.clips]
        return result_manifest(
            record.status, clips, record.error, self.engine.provider, id=record.id
        )

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            with self._lock:
                if self._stopping.is_set():
                    return
                record = self._jobs[job_id]
                if record.status != "queued":
                    continue
                record.status, record.attempts = "running", record.attempts + 1
                self._save(record)
            self._run(record)

    def _run(self, record: JobRecord) -> None:
        out_dir = self.render_dir / record.id
        shutil.rmtree(out_dir, ignore_errors=True)  # a rerun after a restart starts clean

        def progress(fraction: float) -> None:
            record.progress = round(fraction, 4)

        try:
            clips = run_job(
                self.engine,
                JobSpec.model_validate(record.spec),
                out_dir,
                progress,
                lambda: record.id in self._cancel or self._stopping.is_set(),
                self.library,
            )
            record.clips = [c.model_dump() for c in clips]
            failed = sum(c.error is not None for c in clips)
            self._finish(
                record,
                "failed" if failed else "done",
                f"{failed} clip(s) failed" if failed else None,
            )
        except Cancelled:
            shutil.rmtree(out_dir, ignore_errors=True)
            with self._lock:
                if record.id in self._cancel:
                    self._finish(record, "cancelled", "cancelled")
                else:  # the service is stopping: the job runs again after the next start
                    record.status, record.progress = "queued", 0.0
                    record.attempts -= 1
                    self._save(record)
        except UserError as exc:
            self._finish(record, "failed", str(exc))
        except Exception as exc:  # a crashing job must not take the service down
            log.exception("job %s crashed", record.id)
            self._finish(record, "failed", f"internal error: {type(exc).__name__}: {exc}")

    def _finish(self, record: JobRecord, status: str, error: str | None) -> None:
        record.status, record.error, record.finished = status, error, time.time()
        if status == "done":
            record.progress = 1.0
        self._cancel.discard(record.id)
        self._save(record)

    def _save(self, record: JobRecord) -> None:
        write_json_atomic(self.state_dir / f"{record.id}.json", asdict(record))
