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
