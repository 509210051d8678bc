"""The REAPER and Ardour scripts' logic under a stock Lua 5.4, checked against the Python side.

The scripts' pure half (`clapsep_job.lua`) must write jobs that `parse_job` accepts and
read the manifests `clapsep job` writes; the REAPER script itself runs against a
recording stand-in for the `reaper` API, from item selection to placed stems.
"""

import json
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest
from test_bridge_support import make_home, write_noise

from clapsep.host.cli import main
from clapsep.plugin_bridge.jobs import parse_job

LUA = shutil.which("lua5.4") or shutil.which("lua5.3")
LUA_DIR = Path(str(files("clapsep.plugin_bridge").joinpath("lua")))
pytestmark = pytest.mark.skipif(
    LUA is None, reason="needs lua5.4 or lua5.3 (apt-get install lua5.4)"
)

PRELUDE = f"""
package.path = {json.dumps(str(LUA_DIR) + "/?.lua;")} .. package.path
J = require('clapsep_job')
function input() local f = assert(io.open(arg[1], 'rb')); local t = f:read('a'); f:close(); \
return J.decode(t) end
"""


def lua(tmp_path: Path, code: str, data: object = None) -> object:
    """Run `code` after the prelude with `data` as `input()`; it prints one JSON value."""
    script, given = tmp_path / "case.lua", tmp_path / "input.json"
    script.write_text(PRELUDE + code)
    given.write_text(json.dumps(data))
    done = subprocess.run(
        [LUA, str(script), str(given)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_json_round_trips_with_python(tmp_path: Path) -> None:
    tricky = {
        "text": 'quote " back \\ tab \t newline \n é 🎵 \u0001',
        "ints": [0, -3, 2**40],
        "float": 0.1,
        "tiny": 1e-300,
        "nested": {"empty": [], "obj": {}, "t": True, "f": False},
        "none": None,
    }
    back = lua(tmp_path, "print(J.encode(input()))", tricky)
    tricky.pop("none")  # null members are dropped on decoding, as Lua tables cannot hold nil
    assert back == tricky


ITEMS = [  # position, length, startoffs, playrate, chanmode; time selection or None
    ({"position": 10.0, "length": 4.0, "startoffs": 1.5, "playrate": 1.0, "chanmode": 0}, None),
    (
        {"position": 10.0, "length": 4.0, "startoffs": 1.5, "playrate": 1.0, "chanmode": 0},
        {"start": 11.0, "stop": 20.0},
    ),
    (
        {"position": 10.0, "length": 4.0, "startoffs": 0.5, "playrate": 2.0, "chanmode": 2},
        {"start": 11.0, "stop": 12.5},
    ),
    (
        {"position": 10.0, "length": 4.0, "startoffs": 0.0, "playrate": 0.5, "chanmode": 3},
        {"start": 0.0, "stop": 9.0},
    ),
]


def test_reaper_items_map_to_source_sections(tmp_path: Path) -> None:
    cases = [
        {"item": {**item, "id": f"g{i}", "source": "/a.wav", "track": "Vox"}, "sel": sel}
        for i, (item, sel) in enumerate(ITEMS)
    ]
    got = lua(
        tmp_path,
        """
local out = J.array()
for i, case in ipairs(input()) do
  local clip, place = J.reaper_clip(case.item, case.sel)
  out[i] = clip and { clip = clip, place = place } or 'none'
end
print(J.encode(out))""",
        cases,
    )
    for case, result in zip(cases, got, strict=True):
        item, sel = case["item"], case["sel"]
        first, last = item["position"], item["position"] + item["length"]
        if sel:
            first, last = max(first, sel["start"]), min(last, sel["stop"])
        if last <= first:
            assert result == "none"
            continue
        clip, rate = result["clip"], item["playrate"]
        assert clip["position"] == pytest.approx(first)
        assert clip["source_in"] == pytest.approx(
            item["startoffs"] + (first - item["position"]) * rate
        )
        assert clip["source_out"] - clip["source_in"] == pytest.approx((last - first) * rate)
        assert clip["channel_mode"] == ("mono" if item["chanmode"] == 2 else "independent")
        whole = (first, last) == (item["position"], item["position"] + item["length"])
        assert result["place"] == {
            "length": pytest.approx(last - first),
            "playrate": rate,
            "chanmode": item["chanmode"],
            "whole": whole,
        }


def test_ardour_regions_give_one_clip_per_channel_file(tmp_path: Path) -> None:
    region = {
        "id": "123",
        "sources": ["/s/L.wav", "/s/R.wav"],
        "track": "Gtr",
        "position": 96000,
        "start": 24000,
        "length": 48000,
    }
    clips = lua(tmp_path, "print(J.encode(J.ardour_clips(input(), 48000)))", region)
    assert [(c["id"], c["source"], c["track"]) for c in clips] == [
        ("123:1", "/s/L.wav", "Gtr 1"),
        ("123:2", "/s/R.wav", "Gtr 2"),
    ]
    assert {(c["position"], c["source_in"], c["source_out"]) for c in clips} == {(2.0, 0.5, 1.5)}


def test_jobs_built_in_lua_are_valid_jobs(tmp_path: Path) -> None:
    clips = [
        {
            "id": "a",
            "source": "/x.wav",
            "position": 1.5,
            "source_in": 0.25,
            "source_out": 1.0,
            "channel_mode": "mono",
            "track": "T",
        }
    ]
    job = lua(
        tmp_path,
        """local d = input()
print(J.encode(J.build_job(d.clips, { preset = 'Dialogue', query = 'a dog barks', negative = 'wind',
                                      stems = { 'target' } })))""",
        {"clips": clips},
    )
    spec = parse_job(job)
    assert (
        spec.preset == "Dialogue"
        and spec.query
        and spec.query.negative == "wind"
        and spec.stems == ["target"]
    )
    assert spec.clips[0].source_in == 0.25 and spec.clips[0].channel_mode == "mono"


def test_result_manifests_from_clapsep_job_become_placements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path, capsys: pytest.CaptureFixture
) -> None:
    home = make_home(tmp_path, monkeypatch, package)
    source = home / "media" / "it's a take.wav"
    write_noise(source, 2)
    job = home / "job.json"
    clip = {
        "id": "{G}",
        "source": str(source),
        "source_in": 0.5,
        "source_out": 1.5,
        "position": 7.25,
        "track": "V",
    }
    job.write_text(
        json.dumps(
            {
                "clips": [clip, {**clip, "id": "{H}", "source": "/missing.wav"}],
                "query": {"positive": "speech"},
            }
        )
    )
    main(["job", str(job), "--device", "cpu"])
    capsys.readouterr()
    manifest = json.loads((home / "job.result.json").read_text())
    got = lua(
        tmp_path,
        """local p, e = J.placements(input())
print(J.encode({ placements = p, errors = e, progress = J.progress(arg[2]) }))""".replace(
            "arg[2]", json.dumps(str(home / "job.result.json"))
        ),
        manifest,
    )
    assert [(p["id"], p["stem"], p["position"], p["length"]) for p in got["placements"]] == [
        ("{G}", "target", 7.25, 1.0),
        ("{G}", "residual", 7.25, 1.0),
    ]
    assert got["placements"][0]["path"] == manifest["clips"][0]["stems"][0]["path"]
    assert len(got["errors"]) == 1 and got["errors"][0].startswith("{H}: ") and got["progress"] == 1


def test_background_command_passes_awkward_paths_intact(tmp_path: Path) -> None:
    fake = tmp_path / "fake clapsep"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args.txt"\n')
    fake.chmod(0o755)
    job = tmp_path / 'it\'s a "job" $HOME.json'
    line = lua(
        tmp_path,
        "print(J.encode(J.background_command(input().exe, input().job, false)))",
        {"exe": str(fake), "job": str(job)},
    )
    subprocess.run(["sh", "-c", line], check=True, timeout=10)
    args = tmp_path / "args.txt"
    for _ in range(100):
        if args.exists() and args.read_text():
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert args.read_text().splitlines() == ["job", str(job)]


REAPER_STUB = """
local d = input()
local items, handles = d.items, J.array()
for i, it in ipairs(d.items) do handles[i] = { data = it, takes = J.array() } end
local state = { tracks = { { name = 'Vox' } }, undo = J.array(), ext = {}, deferred = {}, \
messages = J.array() }
local function data(h) return h.data end
reaper = {
  get_action_context = function() return true, d.script end,
  GetOS = function() return 'Linux' end,
  GetExtState = function(_, k) return state.ext[k] or '' end,
  SetExtState = function(_, k, v) state.ext[k] = v end,
  GetUserInputs = function() return true, table.concat({ '', 'a person speaking', \
'target,residual', d.exe, d.place },
                                                        '\\t') end,
  GetSet_LoopTimeRange = function() return d.time_sel[1], d.time_sel[2] end,
  CountSelectedMediaItems = function() return #items end,
  GetSelectedMediaItem = function(_, i) return handles[i + 1] end,
  GetActiveTake = function(item) return { data = item.data } end,
  TakeIsMIDI = function() return false end,
  GetMediaItemTake_Source = function(take) return { path = take.data.source } end,
  GetMediaSourceParent = function() return nil end,
  GetMediaSourceFileName = function(src) return src.path end,
  GetMediaItem_Track = function() return state.tracks[1] end,
  GetSetMediaTrackInfo_String = function(t, _, v, set) if set then t.name = v end \
return true, t.name end,
  GetSetMediaItemInfo_String = function(item) return true, item.data.guid end,
  GetMediaItemInfo_Value = function(item, k) return ({ D_POSITION = item.data.position, \
D_LENGTH = item.data.length })[k] end,
  GetMediaItemTakeInfo_Value = function(take, k)
    local v = take.data
    return ({ D_STARTOFFS = v.startoffs, D_PLAYRATE = v.playrate, I_CHANMODE = v.chanmode, \
B_PPITCH = 1 })[k]
  end,
  GetMediaTrackInfo_Value = function(t) for i, x in ipairs(state.tracks) do \
if x == t then return i end end end,
  InsertTrackAtIndex = function(i) table.insert(state.tracks, i + 1, { name = '' }) end,
  GetTrack = function(_, i) return state.tracks[i + 1] end,
  AddMediaItemToTrack = function(t) local it = { values = {}, takes = J.array() }
    t.items = t.items or J.array(); t.items[#t.items + 1] = it; return it end,
  SetMediaItemInfo_Value = function(it, k, v) it.values[k] = v end,
  AddTakeToMediaItem = function(it) local tk = { values = {} }; it.takes[#it.takes + 1] = tk; \
return tk end,
  PCM_Source_CreateFromFile = function(p) return { path = p } end,
  SetMediaItemTake_Source = function(tk, src) tk.source = src.path end,
  SetMediaItemTakeInfo_Value = function(tk, k, v) tk.values[k] = v end,
  GetSetMediaItemTakeInfo_String = function(tk, _, v) tk.name = v end,
  Undo_BeginBlock2 = function() state.undo[#state.undo + 1] = 'begin' end,
  Undo_EndBlock2 = function(_, what) state.undo[#state.undo + 1] = 'end: ' .. what end,
  PreventUIRefresh = function() end, UpdateArrange = function() end,
  ShowMessageBox = function(m) state.messages[#state.messages + 1] = m end,
  GetProjectPath = function() return d.project end,
  RecursiveCreateDirectory = function(p) os.execute('mkdir -p ' .. J.quote(p)) end,
  defer = function(fn) state.deferred[#state.deferred + 1] = fn end,
}
gfx = { w = 320, h = 60, mouse_cap = d.click and 1 or 0, mouse_y = 40, init = function() end,
        quit = function() end, set = function() end, rect = function() end, \
drawstr = function() end,
        update = function() end, getchar = function() return 0 end }
dofile(d.script)
local deadline, polls = os.time() + 90, 0
while #state.deferred > 0 do
  table.remove(state.deferred, 1)()
  polls = polls + 1
  os.execute('sleep 0.05')
  assert(os.time() < deadline, 'the script never finished polling')
end
print(J.encode({ tracks = state.tracks, undo = state.undo, messages = state.messages, polls = polls,
                 source_takes = (function() local n = J.array(); \
for i, h in ipairs(handles) do n[i] = #h.takes end
                                  return n end)() }))
"""


def _reaper_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: Path,
    seconds: float,
    click: bool,
    place: str = "tracks",
    time_sel: tuple = (0, 0),
) -> tuple[dict, list[dict]]:
    import sys

    home = make_home(tmp_path, monkeypatch, package)
    source = home / "media" / "vox.wav"
    write_noise(source, seconds, 48000)
    exe = home / "clapsep"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m clapsep.host "$@"\n')
    exe.chmod(0o755)
    items = [
        {
            "guid": "{A}",
            "source": str(source),
            "position": 10.0,
            "length": 2.0,
            "startoffs": 0.5,
            "playrate": 1.0,
            "chanmode": 0,
        },
        {
            "guid": "{B}",
            "source": str(source),
            "position": 20.0,
            "length": 2.0,
            "startoffs": 0.25,
            "playrate": 0.5,
            "chanmode": 2,
        },
    ]
    state = lua(
        tmp_path,
        REAPER_STUB,
        {
            "items": items,
            "time_sel": list(time_sel),
            "exe": str(exe),
            "click": click,
            "place": place,
            "project": str(home / "project"),
            "script": str(LUA_DIR / "clapsep_reaper.lua"),
        },
    )
    return state, items


def test_reaper_script_places_stems_on_new_tracks_in_one_undo_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path
) -> None:
    state, items = _reaper_run(tmp_path, monkeypatch, package, 3, click=False)
    assert state["messages"] == [] and state["undo"] == ["begin", "end: CLAPSep: add stems"]
    assert [t["name"] for t in state["tracks"]] == ["Vox", "Vox - target", "Vox - residual"]
    for track in state["tracks"][1:]:
        placed = [
            (
                i["values"]["D_POSITION"],
                i["values"]["D_LENGTH"],
                i["takes"][0]["values"]["D_PLAYRATE"],
                i["takes"][0]["values"]["I_CHANMODE"],
            )
            for i in track["items"]
        ]
        assert placed == [
            (it["position"], it["length"], it["playrate"], it["chanmode"]) for it in items
        ]
        for item, source_item in zip(track["items"], items, strict=True):
            frames = round(source_item["length"] * source_item["playrate"] * 48000)
            take = item["takes"][0]
            assert Path(take["source"]).is_file() and take["values"]["D_STARTOFFS"] == 0
            assert (
                f"_{round(source_item['startoffs'] * 48000)}-"
                f"{round(source_item['startoffs'] * 48000) + frames}_" in Path(take["source"]).name
            )


def test_reaper_cancel_button_stops_the_render_and_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path
) -> None:
    state, _ = _reaper_run(tmp_path, monkeypatch, package, 30, click=True)
    assert [t["name"] for t in state["tracks"]] == ["Vox"] and state["undo"] == []
    results = list((tmp_path / "project" / "clapsep").glob("*.result.json"))
    assert len(results) == 1 and json.loads(results[0].read_text())["status"] == "cancelled"


def test_reaper_script_adds_takes_to_whole_items_and_tracks_for_cut_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path
) -> None:
    state, _ = _reaper_run(
        tmp_path, monkeypatch, package, 3, click=False, place="takes", time_sel=(5.0, 21.0)
    )  # keeps item A whole, cuts item B at 21 s
    assert state["source_takes"] == [2, 0] and state["undo"] == ["begin", "end: CLAPSep: add stems"]
    assert [t["name"] for t in state["tracks"]] == ["Vox", "Vox - target", "Vox - residual"]
    for track in state["tracks"][1:]:
        (item,) = track["items"]
        assert (item["values"]["D_POSITION"], item["values"]["D_LENGTH"]) == (20.0, 1.0)
