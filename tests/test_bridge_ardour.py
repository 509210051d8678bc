"""The Ardour editor action inside Ardour's own headless Lua (`ardour7-lua`, Debian `ardour`).

Headless Ardour 7.3 has no file import and no editor, so this checks what it can for
real: a session is created at 48 kHz, the script loads in Ardour's Lua 5.3 and yields
its action, every binding the action calls exists, and the shared job module computes
clip times from `Temporal.timepos_t` sample counts at the session's own rate.
"""

import json
import os
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

ARDOUR_LUA = shutil.which("ardour7-lua")
LUA_DIR = Path(str(files("clapsep.plugin_bridge").joinpath("lua")))
pytestmark = pytest.mark.skipif(
    ARDOUR_LUA is None, reason="needs ardour7-lua (apt-get install ardour)"
)

SCRIPT = """
package.path = %(lua_dir)s .. '/?.lua;' .. package.path
local J = require('clapsep_job')
local s = assert(create_session(%(session)s, 'bridge', 48000), 'no session')
local tracks = s:new_audio_track(1, 2, nil, 1, 'Dialog', ARDOUR.PresentationInfo.max_order,
                                 ARDOUR.TrackMode.Normal, true)
function ardour(descriptor) action_type = descriptor['type'] end
dofile(%(action)s)
local action = factory()
local bindings = {
  StringVector = C.StringVector ~= nil, timepos = Temporal.timepos_t ~= nil,
  SrcBest = ARDOUR.SrcQuality.SrcBest ~= nil, \
SMFTrackName = ARDOUR.MidiTrackNameSource.SMFTrackName ~= nil,
  SMFTempoIgnore = ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore ~= nil,
  PluginInfo = ARDOUR.PluginInfo ~= nil, Track = ARDOUR.Track ~= nil,
  config_dir = type(ARDOUR.user_config_directory(-1)) == 'string',
}
local rate = s:nominal_sample_rate()
local clips = J.ardour_clips({ id = 'r1', sources = { '/media/a.wav' }, track = 'Dialog',
  position = Temporal.timepos_t(96000):samples(), start = Temporal.timepos_t(24000):samples(),
  length = Temporal.timepos_t(48000):samples() }, rate)
print('RESULT ' .. J.encode({ lua = _VERSION, type = action_type, action = type(action), \
rate = rate,
                              tracks = tracks:size(), session_path = s:path(), bindings = bindings,
                              clips = clips }))
s:save_state('')
close_session()
"""


def test_action_loads_in_ardour_and_computes_clips_at_the_session_rate(tmp_path: Path) -> None:
    script = tmp_path / "check.lua"
    script.write_text(
        SCRIPT
        % {
            "lua_dir": json.dumps(str(LUA_DIR)),
            "session": json.dumps(str(tmp_path / "session")),
            "action": json.dumps(str(LUA_DIR / "clapsep_ardour.lua")),
        }
    )
    done = subprocess.run(
        [ARDOUR_LUA, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"HOME": str(tmp_path)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(lines[0][len("RESULT ") :])
    assert (
        result["lua"] == "Lua 5.3"
        and result["type"] == "EditorAction"
        and result["action"] == "function"
    )
    assert result["rate"] == 48000 and result["tracks"] == 1
    assert all(result["bindings"].values()), result["bindings"]
    assert Path(result["session_path"]).resolve() == (tmp_path / "session").resolve()
    assert result["clips"] == [
        {
            "id": "r1:1",
            "source": "/media/a.wav",
            "track": "Dialog",
            "position": 2.0,
            "source_in": 0.5,
            "source_out": 1.5,
        }
    ]
    assert (tmp_path / "session" / "bridge.ardour").is_file()


# The action run for real in headless Ardour: a real session with real regions (bounced
# from the tracks, placed and trimmed so they start inside their sources), a real
# `clapsep job` in the background. Only the GUI half is played by the harness, as Ardour
# 7.3's GUI does it: the editor's region selection, `Editor:do_import` (ImportAsTrack with
# ImportDistinctFiles: one new track per file, named after the file) and the `LuaDialog`
# windows (the dialog's answers, a ProgressWindow whose Cancel is pressed at a given call).
RUN = """
package.path = %(lua_dir)s .. '/?.lua;' .. package.path
local J = require('clapsep_job')
local f = assert(io.open(%(input)s, 'rb')); local d = J.decode(f:read('a')); f:close()
Session = assert(create_session(d.session, 'bridge', 48000), 'no session')
local function region_on(name, channels, seconds, position, start)
  local t = Session:new_audio_track(channels, 2, nil, 1, name, ARDOUR.PresentationInfo.max_order,
                                    ARDOUR.TrackMode.Normal, true):front()
  local bounced = t:bounce_range(0, seconds * 48000, ARDOUR.InterThreadInfo(), t:main_outs(), false,
                                 name .. ' take')
  t:playlist():add_region(bounced, Temporal.timepos_t(position - start), 1, false)
  local r
  for x in t:playlist():region_list():iter() do r = x end
  r:trim_front(Temporal.timepos_t(position))
  return r
end
local selected = { region_on('Dialog', 1, 3, 72000, 24000), region_on('Gtr', 2, 3, 240000, 48000) }
for _, range in ipairs(d.ranges) do -- range markers, as Locations > New Range makes them
  Session:locations():add_range(Temporal.timepos_t(range[1]), Temporal.timepos_t(range[2]))
    :set_name(range[3])
end
local seen = J.array()
for i, r in ipairs(selected) do
  seen[i] = { position = r:position():samples(), start = r:start():samples(),
              channels = r:master_sources():size() }
end
local log = { dialog = J.array(), messages = J.array(), progress = 0, done = false,
              imports = J.array() }
Editing = Editing or { ImportDistinctFiles = 'ImportDistinctFiles',
                       ImportAsTrack = 'ImportAsTrack' }
Editor = {
  get_selection = function(_)
    return { regions = { regionlist = function(_)
      return { iter = function(_)
        local i = 0
        return function() i = i + 1; return selected[i] end
      end }
    end } }
  end,
  do_import = function(_, files, disposition, mode, _quality, _names, _tempo, pos, _instrument,
                       _track, _markers)
    assert(disposition == Editing.ImportDistinctFiles and mode == Editing.ImportAsTrack)
    for path in files:iter() do
      local route = Session:new_audio_track(1, 2, nil, 1, path:match('([^/]+)%%.%%w+$'),
                                            ARDOUR.PresentationInfo.max_order,
                                            ARDOUR.TrackMode.Normal, true):front()
      log.imports[#log.imports + 1] = { route = route, path = path, position = pos:samples() }
    end
  end,
}
LuaDialog = {
  MessageType = { Info = 0, Warning = 1, Question = 2, Error = 3 },
  ButtonType = { OK = 0, Close = 1 },
  Message = function(_, text)
    return { run = function() log.messages[#log.messages + 1] = text end }
  end,
  Dialog = function(_, fields)
    for i, field in ipairs(fields) do log.dialog[i] = field.key end
    return { run = function() return d.answers end }
  end,
  ProgressWindow = function()
    local w = { cancel = false }
    function w.progress(self)
      log.progress = log.progress + 1
      self.cancel = self.cancel or (d.cancel_at ~= nil and log.progress >= d.cancel_at)
      return self.cancel
    end
    function w.canceled(self) return self.cancel end
    function w.done() log.done = true end
    return w
  end,
}
function ardour() end
dofile(%(action)s)
factory()()
for _, import in ipairs(log.imports) do import.name = import.route:name(); import.route = nil end
local names = J.array()
for r in Session:get_routes():iter() do names[#names + 1] = r:name() end
log.routes, log.regions, log.session = names, seen, Session:path()
print('RESULT ' .. J.encode(log))
close_session()
"""


def _ardour_run(
    home: Path,
    answers: dict[str, str],
    cancel_at: int | None = None,
    ranges: tuple[tuple[int, int, str], ...] = (),
) -> dict:
    import sys

    exe = home / "clapsep"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m clapsep.host "$@"\n')
    exe.chmod(0o755)
    given = home / "input.json"
    data = {
        "session": str(home / "session"),
        "answers": {"exe": str(exe), **answers},
        "ranges": [list(r) for r in ranges],
    }
    given.write_text(json.dumps(data | ({"cancel_at": cancel_at} if cancel_at else {})))
    script = home / "run.lua"
    script.write_text(
        RUN
        % {
            "lua_dir": json.dumps(str(LUA_DIR)),
            "input": json.dumps(str(given)),
            "action": json.dumps(str(LUA_DIR / "clapsep_ardour.lua")),
        }
    )
    done = subprocess.run(
        [ARDOUR_LUA, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"HOME": str(home)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(lines[0][len("RESULT ") :])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path) -> Path:
    from test_bridge_support import make_home

    return make_home(tmp_path, monkeypatch, package)


ANSWERS = {"preset": "", "query": "a person speaking", "negative": "music", "stems": ""}


def test_action_renders_in_the_background_and_names_stem_tracks_after_the_track(
    home: Path,
) -> None:
    log = _ardour_run(home, ANSWERS | {"stems": "target,residual"})
    assert log["messages"] == [] and log["done"] and log["progress"] >= 1
    assert log["dialog"] == ["preset", "query", "negative", "stems", "exe"]
    assert [r["channels"] for r in log["regions"]] == [1, 2]
    dialog, gtr = (r["position"] for r in log["regions"])
    assert [(i["name"], i["position"]) for i in log["imports"]] == [
        ("Dialog - target", dialog),
        ("Dialog - residual", dialog),
        ("Gtr - target 1", gtr),
        ("Gtr - residual 1", gtr),
        ("Gtr - target 2", gtr),
        ("Gtr - residual 2", gtr),
    ]
    assert log["routes"][:2] == ["Dialog", "Gtr"] and len(log["routes"]) == 2 + 1 + 6  # + Master
    (job,) = (Path(log["session"]) / "clapsep").glob("job-*[0-9].json")
    assert json.loads(job.read_text())["query"]["negative"] == "music"
    for imported, region in zip(log["imports"][::2], (0, 1, 1), strict=True):
        start = log["regions"][region]["start"]  # the region's start inside its source
        assert f"_{start}-" in Path(imported["path"]).name and Path(imported["path"]).is_file()


def test_action_imports_however_many_stems_the_job_returns(home: Path) -> None:
    log = _ardour_run(home, ANSWERS | {"stems": "residual"})
    assert [i["name"] for i in log["imports"]] == [
        "Dialog - residual",
        "Gtr - residual 1",
        "Gtr - residual 2",
    ]


def test_cancel_in_the_progress_window_stops_the_render_and_imports_nothing(home: Path) -> None:
    log = _ardour_run(home, ANSWERS, cancel_at=1)
    assert log["imports"] == [] and log["messages"] == [] and log["done"]
    (result,) = (Path(log["session"]) / "clapsep").glob("*.result.json")
    assert json.loads(result.read_text())["status"] == "cancelled"


def test_target_and_remove_range_markers_become_spans_in_region_source_seconds(
    home: Path,
) -> None:
    ranges = ((48000, 96000, "Target"), (300000, 400000, " remove"), (0, 400000, "verse"))
    log = _ardour_run(home, ANSWERS | {"stems": "target"}, ranges=ranges)
    assert log["messages"] == [] and len(log["imports"]) == 3
    (job,) = (Path(log["session"]) / "clapsep").glob("job-*[0-9].json")
    dialog, gtr_left, gtr_right = json.loads(job.read_text())["clips"]
    d, g = log["regions"]  # session sample s plays source second (start + s - position) / rate

    def seconds(region: dict, sample: int) -> float:
        return (region["start"] + sample - region["position"]) / 48000

    assert dialog["query_spans"] == [[seconds(d, d["position"]), seconds(d, 96000)]]
    assert "negative_spans" not in dialog
    for clip in (gtr_left, gtr_right):  # the region ends at 336000
        assert clip["negative_spans"] == [[seconds(g, 300000), seconds(g, 336000)]]
        assert "query_spans" not in clip
