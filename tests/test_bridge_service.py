"""The render service over real HTTP on 127.0.0.1: guard, jobs, cancel, crashes, restart, schema."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from test_bridge_support import LiveServer, free_port, read, wait_for, write_noise

from clapsep.errors import UserError
from clapsep.host.engine import Engine, RenderInput, RenderRequest
from clapsep.plugin_bridge.guard import load_or_create_token
from clapsep.plugin_bridge.jobs import parse_job
from clapsep.plugin_bridge.service import (
    ServiceConfig,
    committed_schema,
    create_app,
    openapi_schema,
)

pytest_plugins = ["test_bridge_support"]  # the home fixture (`package` is conftest's)
TOKEN = "x" * 43
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class _TestEngine(Engine):
    """The real engine, slowed per batch (to cancel mid-job) and crashing on `crash*` files."""

    delay = 0.0

    def separate_fn(self, condition: np.ndarray):  # type: ignore[no-untyped-def]
        fn = super().separate_fn(condition)

        def slow(batch: np.ndarray) -> np.ndarray:
            time.sleep(self.delay)
            return fn(batch)

        return slow

    def render(self, request: RenderRequest, item: RenderInput, *args, **kwargs):  # type: ignore[no-untyped-def]
        if item.source.name.startswith("crash"):
            raise RuntimeError("simulated crash inside the renderer")
        return super().render(request, item, *args, **kwargs)


@pytest.fixture
def engine(home: Path, package: Path) -> _TestEngine:
    return _TestEngine(package, "cpu")


def config(home: Path, **kw: object) -> ServiceConfig:
    return ServiceConfig(
        token=TOKEN,
        render_dir=home / "renders",
        state_dir=home / "state",
        allowed_roots=[home / "media"],
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture
def server(home: Path, engine: _TestEngine):  # type: ignore[no-untyped-def]
    with LiveServer(create_app(engine, config(home, max_body=64 * 1024))) as live:
        yield live


def job(*sources: Path, **extra: object) -> dict:
    clips = [
        {
            "id": f"clip{i}",
            "source": str(s),
            "source_in": 0.25,
            "source_out": 1.25,
            "position": 10.0 + i,
            "track": "Dialog",
        }
        for i, s in enumerate(sources)
    ]
    return {"clips": clips, "query": {"positive": "a person speaking"}, **extra}


def finished(client: httpx.Client, job_id: str, timeout: float = 60) -> dict:
    def poll() -> dict | None:
        status = client.get(f"/jobs/{job_id}").json()
        return status if status["status"] in ("done", "failed", "cancelled") else None

    return wait_for(poll, timeout)


def test_health_reports_the_provider_in_use_and_presets_list(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        health = client.get("/health").json()
        assert health["provider"] == "CPUExecutionProvider" and health["status"] == "ok"
        names = [p["name"] for p in client.get("/presets").json()]
        assert "Dialogue" in names


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_requests_without_the_token_are_refused(server: LiveServer, headers: dict) -> None:
    response = httpx.get(f"{server.url}/health", headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "127.0.0.1.evil.example:80"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_foreign_host_or_origin_is_refused_even_with_the_token(
    server: LiveServer, headers: dict
) -> None:
    response = httpx.get(f"{server.url}/health", headers=AUTH | headers)
    assert response.status_code == 403


def test_loopback_origin_is_accepted(server: LiveServer) -> None:
    assert httpx.get(
        f"{server.url}/health", headers=AUTH | {"Origin": f"http://localhost:{server.port}"}
    ).is_success


def test_oversized_bodies_are_refused_declared_or_chunked(server: LiveServer) -> None:
    big = b"{" + b" " * (65 * 1024) + b"}"
    assert httpx.post(f"{server.url}/jobs", headers=AUTH, content=big).status_code == 413

    def chunks():  # no Content-Length: the guard counts what arrives
        for _ in range(70):
            yield b" " * 1024

    assert httpx.post(f"{server.url}/jobs", headers=AUTH, content=chunks()).status_code == 413


def test_sources_outside_the_allowed_folders_are_refused(server: LiveServer, home: Path) -> None:
    outside = home / "elsewhere.wav"
    write_noise(outside, 2)
    (home / "media" / "link.wav").symlink_to(outside)
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        for source in (
            outside,
            home / "media" / "link.wav",
            home / "media" / ".." / "elsewhere.wav",
        ):
            response = client.post("/jobs", json=job(source))
            assert response.status_code == 403, source
        relative = client.post("/jobs", json=job(Path("media/x.wav")))
        assert relative.status_code == 403
        sneaky = job(home / "media" / "link.wav")
        sneaky["query"]["positive_audio"] = [str(outside)]
        assert client.post("/jobs", json=sneaky).status_code == 403


def test_invalid_jobs_say_what_is_wrong(server: LiveServer, home: Path) -> None:
    source = home / "media" / "a.wav"
    write_noise(source, 2)
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        assert client.post("/jobs", json={"clips": []}).status_code == 422
        assert client.post("/jobs", json=job(source, output_dir="/etc")).status_code == 422
        unknown = client.post("/jobs", json=job(source, preset="No such preset"))
        assert unknown.status_code == 422 and "No such preset" in unknown.text
        assert client.get("/jobs/nope").status_code == 404


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("clips", 0, "position"), float("nan")),
        (("clips", 0, "position"), float("inf")),
        (("clips", 0, "position"), float("-inf")),
        (("clips", 0, "source_in"), float("inf")),
        (("clips", 0, "source_out"), float("inf")),
        (("atten_limit_db",), float("nan")),
        (("query", "audio_weight"), float("nan")),
        (("clips", 0, "source"), "{media}/a\x00.wav"),
        (("query", "positive_audio", 0), "{media}/a.wav\x00"),
        (("clips", 0, "track"), "Dia\x00log"),
        (("query", "name"), "wind\x00"),
    ],
)
def test_non_finite_numbers_and_nul_characters_are_refused_with_422_naming_the_field(
    server: LiveServer, home: Path, where: tuple, value: object
) -> None:
    source = home / "media" / "a.wav"
    write_noise(source, 2)
    spec = {"clips": [{"source": str(source)}], "query": {"positive": "wind", "positive_audio": []}}
    if isinstance(value, str):
        value = value.format(media=home / "media")
    *parents, key = where
    node: Any = spec
    for step in parents:
        node = node[step]
    if isinstance(node, list):
        node.append(value)
    else:
        node[key] = value
    body = json.dumps(spec)  # Python writes NaN and Infinity, and the service's reader takes them
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        response = client.post("/jobs", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert [e["loc"] for e in response.json()["detail"]] == [["body", *where]]
        assert client.get("/health").json()["queued"] == 0
    with pytest.raises(UserError, match=f"invalid job: {'.'.join(map(str, where))}: "):
        parse_job(json.loads(body))  # the file mode (`clapsep job`) refuses it the same way


def test_job_renders_each_clip_at_its_position_under_the_render_folder(
    server: LiveServer, home: Path
) -> None:
    a, b = home / "media" / "a.wav", home / "media" / "b.wav"
    xa, xb = write_noise(a, 2, 48000, 1, seed=1), write_noise(b, 2, 44100, 2, seed=2)
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        submitted = client.post("/jobs", json=job(a, b))
        assert submitted.status_code == 202 and submitted.json()["status"] == "queued"
        job_id = submitted.json()["id"]
        assert client.get(f"/jobs/{job_id}/result").status_code in (200, 409)
        assert finished(client, job_id)["status"] == "done"
        result = client.get(f"/jobs/{job_id}/result").json()
    assert [c["id"] for c in result["clips"]] == ["clip0", "clip1"] and result[
        "provider"
    ] == "CPUExecutionProvider"
    for clip, x, rate in zip(result["clips"], (xa, xb), (48000, 44100), strict=True):
        stems = {s["stem"]: s for s in clip["stems"]}
        assert set(stems) == {"target", "residual"}
        section = x[:, round(0.25 * rate) : round(1.25 * rate)]
        for s in stems.values():
            assert Path(s["path"]).resolve().is_relative_to((home / "renders" / job_id).resolve())
            assert s["position"] == clip["position"] and s["frames"] == section.shape[1] == rate
        total = read(stems["target"]["path"]) + read(stems["residual"]["path"])
        np.testing.assert_allclose(total, section, atol=1e-5)


def test_cancel_mid_job_stops_it_and_leaves_no_stems(
    server: LiveServer, home: Path, engine: _TestEngine
) -> None:
    engine.delay = 0.2
    source = home / "media" / "long.wav"
    write_noise(source, 150, 16000)  # ~18 model windows, so the job is cancelled between calls
    spec = {"clips": [{"source": str(source)}], "query": {"positive": "a dog barks"}}
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        job_id = client.post("/jobs", json=spec).json()["id"]
        wait_for(lambda: client.get(f"/jobs/{job_id}").json()["progress"] > 0)
        assert client.post(f"/jobs/{job_id}/cancel").json()["id"] == job_id
        status = finished(client, job_id, 10)
        assert status["status"] == "cancelled" and status["progress"] < 1
        assert client.get(f"/jobs/{job_id}/result").json()["status"] == "cancelled"
        assert not (home / "renders" / job_id).exists()
        engine.delay = 0.0
        again = client.post("/jobs", json=spec).json()["id"]  # the worker goes on
        assert finished(client, again)["status"] == "done"


def test_a_crashing_job_fails_alone_and_a_vanished_client_does_not_matter(
    server: LiveServer, home: Path
) -> None:
    crash, fine = home / "media" / "crash.wav", home / "media" / "fine.wav"
    write_noise(crash, 2)
    write_noise(fine, 2)
    with socket.create_connection(("127.0.0.1", server.port)) as raw:  # half a request, then gone
        raw.sendall(
            b'POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"clips"'
        )
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        bad = client.post("/jobs", json=job(crash)).json()["id"]
        good = client.post("/jobs", json=job(fine)).json()["id"]
        status = finished(client, bad)
        assert status["status"] == "failed" and "simulated crash" in status["error"]
        assert finished(client, good)["status"] == "done"
        assert client.get("/health").json()["status"] == "ok"


def test_two_clients_at_once_each_get_their_own_results(server: LiveServer, home: Path) -> None:
    sources = [home / "media" / f"s{i}.wav" for i in range(2)]
    signals = [write_noise(s, 2, seed=10 + i) for i, s in enumerate(sources)]
    results: dict[int, dict] = {}

    def client_run(i: int) -> None:
        with httpx.Client(base_url=server.url, headers=AUTH) as client:
            job_id = client.post("/jobs", json=job(sources[i])).json()["id"]
            finished(client, job_id)
            results[i] = client.get(f"/jobs/{job_id}/result").json()

    threads = [threading.Thread(target=client_run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, x in enumerate(signals):
        stems = {s["stem"]: read(s["path"]) for s in results[i]["clips"][0]["stems"]}
        np.testing.assert_allclose(
            stems["target"] + stems["residual"], x[:, 12000:60000], atol=1e-5
        )


def test_live_schema_matches_the_committed_openapi_file(home: Path, engine: _TestEngine) -> None:
    live = openapi_schema(create_app(engine, config(home)))
    assert live == committed_schema(), "regenerate plugin_bridge/openapi.json (see docs/daw.md)"
    assert {
        "/health",
        "/presets",
        "/jobs",
        "/jobs/{job_id}",
        "/jobs/{job_id}/cancel",
        "/jobs/{job_id}/result",
    } == set(live["paths"])


def test_token_file_is_created_owner_only_and_refused_when_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "token"
    token = load_or_create_token(path)
    assert len(token) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_token(path) == token
    path.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        load_or_create_token(path)


_HELD_SERVE = """
import sys, time
from pathlib import Path
from clapsep.host.engine import Engine
from clapsep.host.cli import main
fn = Engine.separate_fn
def held(self, condition):
    inner = fn(self, condition)
    def run(batch):
        Path(sys.argv[1]).touch()
        time.sleep(float(sys.argv[2]))
        return inner(batch)
    return run
if sys.argv[1]:
    Engine.separate_fn = held
sys.exit(main(sys.argv[3:]))
"""


def _serve(
    home: Path, port: int, hold_marker: Path | None, hold: float = 3600.0
) -> subprocess.Popen:
    """`clapsep serve` in a child; with `hold_marker`, each batch touches it and waits `hold` s."""
    argv = [
        "serve",
        "--port",
        str(port),
        "--allow",
        str(home / "media"),
        "--device",
        "cpu",
        "--token-file",
        str(home / "token"),
    ]
    log = (home / f"serve-{port}.log").open(
        "a"
    )  # cwd: not the checkout, whose egg-info may be stale
    marker = str(hold_marker) if hold_marker else ""
    return subprocess.Popen(
        [sys.executable, "-c", _HELD_SERVE, marker, str(hold), *argv],
        env=os.environ.copy(),
        cwd=home,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def _up(home: Path, port: int) -> tuple[str, dict[str, str]]:
    """Wait until the child `clapsep serve` on `port` answers; its URL and auth header."""
    token = wait_for(
        lambda: (home / "token").is_file() and (home / "token").read_text().strip(), 30
    )
    url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health", headers=headers).is_success
        except httpx.HTTPError:
            return False

    wait_for(up, 60, 0.2)
    return url, headers


def _stored(home: Path, job_id: str) -> dict:
    return json.loads((home / "data" / "service-jobs" / f"{job_id}.json").read_text())


def test_restart_resumes_queued_and_interrupted_jobs(home: Path) -> None:
    """`clapsep serve` killed mid-job (SIGKILL): after a restart every job still finishes."""
    source = home / "media" / "long.wav"
    write_noise(source, 20, 16000)
    port = free_port()
    held = home / "held"
    first = _serve(home, port, held)
    try:
        url, headers = _up(home, port)
        spec = {"clips": [{"source": str(source), "position": 3.0}], "query": {"positive": "wind"}}
        ids = [httpx.post(f"{url}/jobs", json=spec, headers=headers).json()["id"] for _ in range(2)]
        wait_for(held.is_file, 60)  # the first job is inside separation, the second waits
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    states = {i: _stored(home, i)["status"] for i in ids}
    assert states == {ids[0]: "running", ids[1]: "queued"}
    second = _serve(home, port, None)
    try:
        _up(home, port)
        with httpx.Client(base_url=url, headers=headers) as client:
            for job_id in ids:
                status = finished(client, job_id, 60)
                assert status["status"] == "done" and status["recovered"]
            assert client.get(f"/jobs/{ids[0]}").json()["attempts"] == 2
            stems = client.get(f"/jobs/{ids[0]}/result").json()["clips"][0]["stems"]
            assert {s["position"] for s in stems} == {3.0}
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_normal_stop_mid_job_keeps_it_queued_starts_no_other_and_both_run_after_restart(
    home: Path, stop: signal.Signals
) -> None:
    """SIGTERM or Ctrl-C is not a cancel: the running job is handed back, partial stems go."""
    source = home / "media" / "long.wav"
    write_noise(source, 150, 16000)  # many batches: the stop lands between two of them
    port = free_port()
    held = home / "held"
    first = _serve(home, port, held, hold=0.5)
    try:
        url, headers = _up(home, port)
        spec = {"clips": [{"source": str(source), "position": 3.0}], "query": {"positive": "wind"}}
        ids = [httpx.post(f"{url}/jobs", json=spec, headers=headers).json()["id"] for _ in range(2)]
        wait_for(held.is_file, 60)  # the first job is inside separation, the second waits
        partial = home / "data" / "renders" / ids[0]
        assert partial.is_dir() and _stored(home, ids[0])["status"] == "running"
        os.kill(first.pid, stop)
        first.wait(30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
    for job_id in ids:
        stored = _stored(home, job_id)
        assert (stored["status"], stored["attempts"], stored["progress"]) == ("queued", 0, 0.0)
    assert not partial.exists()
    second = _serve(home, port, None)
    try:
        _up(home, port)
        with httpx.Client(base_url=url, headers=headers) as client:
            statuses = [finished(client, job_id, 120) for job_id in ids]
            for status in statuses:
                assert status["status"] == "done" and status["recovered"]
                assert status["attempts"] == 1
            assert statuses[0]["finished"] < statuses[1]["finished"]  # in submission order
            stems = client.get(f"/jobs/{ids[0]}/result").json()["clips"][0]["stems"]
            assert {s["stem"] for s in stems} == {"target", "residual"}
            assert all(Path(s["path"]).is_file() and s["position"] == 3.0 for s in stems)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)


def test_a_job_interrupted_twice_is_failed_not_retried_forever(
    home: Path, engine: _TestEngine
) -> None:
    from clapsep.plugin_bridge.job_queue import JobQueue, JobRecord

    state = home / "state"
    state.mkdir()
    spec = {"clips": [{"source": str(home / "media" / "x.wav")}], "query": {"positive": "wind"}}
    (state / "a.json").write_text(
        json.dumps(vars(JobRecord(id="a", spec=spec, status="running", attempts=2)))
    )
    (state / "b.json").write_text("{half written")
    jobs = JobQueue(engine, state, home / "renders")
    record = jobs.get("a")
    assert (
        record is not None
        and record.status == "failed"
        and "stopped 2 times" in (record.error or "")
    )
    assert json.loads((state / "a.json").read_text())["status"] == "failed"


def test_a_service_start_removes_temp_files_a_killed_service_left_and_keeps_the_rest(
    engine: Engine, home: Path
) -> None:
    from clapsep.files import temp_path
    from clapsep.plugin_bridge.job_queue import JobQueue

    state, renders = home / "state", home / "renders"
    (renders / "job1" / "clip").mkdir(parents=True)
    state.mkdir()
    stale = [
        temp_path(state / "job1.json"),
        temp_path(renders / "job1" / "clip" / "a_wind_target.wav"),
    ]
    kept = [renders / "job1" / "clip" / "done_target.wav", home / "media.part.wav"]
    for path in stale + kept:
        path.write_bytes(b"x" * 64)
        os.utime(path, (time.time() - 60, time.time() - 60))
    JobQueue(engine, state, renders)
    assert [p.exists() for p in stale] == [False, False]
    assert all(p.exists() for p in kept)
