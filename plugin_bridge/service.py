"""The render service's HTTP API (FastAPI), documented in `openapi.json` beside this file.

Routes only translate between HTTP and the `JobQueue`; the `Guard` middleware has
already refused foreign hosts and origins, missing tokens and oversized bodies. A job
may only read files under the configured roots (clip sources and query examples,
checked with links resolved) and only ever writes under the render folder, in a
folder named by the job's id, which the client does not choose. A body that does not fit
the job model (NaN and infinities, NUL characters included) is answered 422 naming the
field, without echoing the value back.
"""

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from clapsep.errors import UserError
from clapsep.host.engine import Engine
from clapsep.host.presets import PresetLibrary
from clapsep.plugin_bridge.guard import Guard
from clapsep.plugin_bridge.job_queue import JobQueue, JobRecord
from clapsep.plugin_bridge.jobs import JobClipResult, JobSpec, check_within, job_preset
from clapsep.plugin_bridge.options import MAX_BODY

GUARD_NOTE = (
    "Listens on 127.0.0.1 only. Every route answers 401 without the bearer token from the "
    "service's token file, 403 to a non-loopback peer, Host or Origin, and 413 to a body over the "
    "configured limit."
)


@dataclass
class ServiceConfig:
    """Where the service reads and writes, and its limits."""

    token: str
    render_dir: Path
    state_dir: Path
    allowed_roots: list[Path] = field(default_factory=list)
    max_body: int = MAX_BODY
    max_queued: int = 64


class JobStatus(BaseModel):
    id: str
    status: str
    progress: float
    error: str | None
    attempts: int
    created: float
    finished: float | None
    recovered: bool


class JobResult(BaseModel):
    format: str
    version: int
    id: str
    status: str
    error: str | None
    provider: str | None
    clips: list[JobClipResult]


class PresetInfo(BaseModel):
    name: str
    category: str
    notes: str
    stems: list[str]
    factory: bool


class Health(BaseModel):
    status: str
    version: str
    provider: str
    provider_note: str
    model: dict[str, Any]
    queued: int


def create_app(engine: Engine, config: ServiceConfig, library: PresetLibrary | None = None) -> Any:
    """The guarded ASGI app; its worker starts and stops with the app's lifespan."""
    jobs = JobQueue(engine, config.state_dir, config.render_dir, config.max_queued, library)
    roots = config.allowed_roots

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        jobs.start()
        yield
        jobs.stop()

    app = FastAPI(
        title="clapsep render service",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.jobs = jobs

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 without `input`: a NaN there cannot be written as JSON (it was a 500)."""
        detail = [{k: e[k] for k in ("type", "loc", "msg")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, 422)

    def found(job_id: str) -> JobRecord:
        record = jobs.get(job_id)
        if record is None:
            raise HTTPException(404, f"no job {job_id}")
        return record

    @app.get("/health", response_model=Health)
    def health() -> dict[str, Any]:
        """The model and the execution provider actually in use (not just the one asked for)."""
        return {
            "status": "ok",
            "version": version("clapsep-studio"),
            "provider": engine.provider,
            "provider_note": engine.separator.provider_note,
            "model": engine.describe(),
            "queued": jobs.waiting(),
        }

    @app.get("/presets", response_model=list[PresetInfo])
    def presets() -> list[dict[str, Any]]:
        lib = library or PresetLibrary()
        return [
            {
                "name": p.name,
                "category": p.category,
                "notes": p.notes,
                "stems": list(p.stems),
                "factory": lib.is_factory(p.name),
            }
            for p in lib.presets()
        ]

    @app.post("/jobs", response_model=JobStatus, status_code=202)
    def submit(spec: JobSpec) -> dict[str, Any]:
        """Queue a job; sources and query examples must lie under the allowed folders."""
        try:
            check_within(spec.audio_paths(), roots)
        except UserError as exc:
            raise HTTPException(403, str(exc)) from None
        try:
            job_preset(spec, library)
        except UserError as exc:
            raise HTTPException(422, str(exc)) from None
        try:
            return jobs.submit(spec).status_view()
        except OverflowError as exc:
            raise HTTPException(429, str(exc)) from None

    @app.get("/jobs/{job_id}", response_model=JobStatus)
    def status(job_id: str) -> dict[str, Any]:
        return found(job_id).status_view()

    @app.post("/jobs/{job_id}/cancel", response_model=JobStatus)
    def cancel(job_id: str) -> dict[str, Any]:
        """Stop a job before its next batch; a finished job is left as it is."""
        found(job_id)
        record = jobs.cancel(job_id)
        assert record is not None
        return record.status_view()

    @app.get("/jobs/{job_id}/result", response_model=JobResult)
    def result(job_id: str) -> dict[str, Any]:
        """Per clip and stem: the written file and its timeline position (409 until finished)."""
        record = found(job_id)
        if record.status in ("queued", "running"):
            raise HTTPException(409, f"job {job_id} is {record.status}")
        return jobs.result(record)

    return Guard(app, config.token, config.max_body)


def openapi_schema(app: Any) -> dict[str, Any]:
    """The live schema of a guarded app (compared with the committed `openapi.json`)."""
    from fastapi.openapi.utils import get_openapi

    inner = app.app
    schema = get_openapi(
        title=inner.title, version=inner.version, routes=inner.routes, description=GUARD_NOTE
    )
    schema["components"]["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
    schema["security"] = [{"token": []}]
    return schema


def committed_schema() -> dict[str, Any]:
    return json.loads(
        files("clapsep.plugin_bridge").joinpath("openapi.json").read_text(encoding="utf-8")
    )
