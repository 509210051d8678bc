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
    (
        {
            "position": 10.0,
            "length": 4.0,
            "startoffs": 0.5,
            "playrate": 1.5,
            "chanmode": 0,
            "section_offset": 2.0,
        },
        {"start": 12.0, "stop": 13.0},
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
            item.get("section_offset", 0) + item["startoffs"] + (first - item["position"]) * rate
        )
        assert clip["source_out"] - clip["source_in"] == pytest.approx((last - first) * rate)
        assert clip["channel_mode"] == ("mono" if item["chanmode"] == 2 else "independent")
        whole = (first, last) == (item["position"], item["position"] + item["length"])
        assert result["place"] == {
            "position": pytest.approx(first),
            "length": pytest.approx(last - first),
            "playrate": rate,
            "chanmode": item["chanmode"],
            "whole": whole,
        }


def test_ardour_regions_give_one_clip_per_channel_file_numbered_by_channel(
    tmp_path: Path,
) -> None:
    region = {
        "id": "123",
        "sources": ["/s/L.wav", "/s/R.wav"],
        "track": "Gtr",
        "position": 96000,
        "start": 24000,
        "length": 48000,
    }
    clips, channels = lua(tmp_path, "print(J.encode({ J.ardour_clips(input(), 48000) }))", region)
    assert [(c["id"], c["source"], c["track"]) for c in clips] == [
        ("123:1", "/s/L.wav", "Gtr"),
        ("123:2", "/s/R.wav", "Gtr"),
    ]
    assert channels == {"123:1": 1, "123:2": 2}
    mono = lua(
        tmp_path,
        "print(J.encode({ J.ardour_clips(input(), 48000) }))",
        {**region, "sources": ["/s/M.wav"]},
    )
    assert mono[1] == {} and mono[0][0]["track"] == "Gtr"
    assert {(c["position"], c["source_in"], c["source_out"]) for c in clips} == {(2.0, 0.5, 1.5)}


def test_reaper_target_and_remove_regions_become_merged_spans_in_source_seconds(
    tmp_path: Path,
) -> None:
    item = {
        "id": "g",
        "source": "/a.wav",
        "position": 10.0,
        "length": 4.0,
        "startoffs": 0.5,
        "playrate": 1.5,
        "section_offset": 2.0,
    }  # timeline t plays source 2.5 + (t - 10) * 1.5
    marks = [
        {"name": " Target ", "start": 9.0, "stop": 10.5},  # from the item start
        {"name": "target", "start": 10.25, "stop": 11.0},  # overlaps the first: joined
        {"name": "TARGET", "start": 13.5, "stop": 20.0},  # outside the cut, inside the item
        {"name": "remove", "start": 11.0, "stop": 11.5},
        {"name": "removed", "start": 10.0, "stop": 14.0},
        {"name": "target", "start": 14.0, "stop": 15.0},  # only touches the item's end
    ]
    clip, bare = lua(
        tmp_path,
        """local d = input()
print(J.encode({ J.reaper_clip(d.item, { start = 12.0, stop = 13.0 }, d.marks),
                 (J.reaper_clip(d.item, nil, {})) }))""",
        {"item": item, "marks": marks},
    )
    assert (clip["source_in"], clip["source_out"]) == pytest.approx((5.5, 7.0))
    assert clip["query_spans"] == [pytest.approx([2.5, 4.0]), pytest.approx([7.75, 8.5])]
    assert clip["negative_spans"] == [pytest.approx([4.0, 4.75])]
    assert "query_spans" not in bare and "negative_spans" not in bare


def test_ardour_range_markers_become_spans_of_every_channel_clip(tmp_path: Path) -> None:
    region = {
        "id": "7",
        "sources": ["/s/L.wav", "/s/R.wav"],
        "position": 96000,
        "start": 24000,
        "length": 48000,
    }  # session sample s plays source second (24000 + s - 96000) / 48000
    marks = [
        {"name": "Target", "start": 72000, "stop": 120000},
        {"name": "remove ", "start": 130000, "stop": 200000},
        {"name": "remove", "start": 0, "stop": 96000},  # ends where the region starts
    ]
    clips, _ = lua(
        tmp_path,
        "local d = input(); print(J.encode({ J.ardour_clips(d.region, 48000, d.marks) }))",
        {"region": region, "marks": marks},
    )
    for clip in clips:
        assert clip["query_spans"] == [[0.5, 1.0]]
        assert clip["negative_spans"] == [pytest.approx([58000 / 48000, 1.5])]
    spec = parse_job({"clips": clips, "query": {"positive": "speech"}})
    assert spec.clips[1].query_spans == [[0.5, 1.0]]


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


def test_background_command_marks_the_end_of_a_program_that_wrote_no_result(
    tmp_path: Path,
) -> None:
    job = tmp_path / "job.json"
    line = lua(
        tmp_path,
        "print(J.encode(J.background_command(input().exe, input().job, false)))",
        {"exe": str(tmp_path / "no such clapsep"), "job": str(job)},
    )
    subprocess.run(["sh", "-c", line], check=True, timeout=10)
    ended = tmp_path / "job.ended"
    for _ in range(100):
        if ended.exists() and ended.read_text():
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert ended.read_text().strip() == "127"  # the shell's "command not found"
    state = lua(tmp_path, "print(J.encode({ J.job_state(J.paths(input())) }))", str(job))
    assert state == ["lost"]


def test_stem_slots_give_each_source_track_one_track_per_stem_in_result_order(
    tmp_path: Path,
) -> None:
    split = ["dialogue", "music", "effects", "rest"]
    placements = [
        {"id": item, "stem": stem} for item in ("a1", "b1", "a2") for stem in split
    ]  # a1 and a2 sit on track A, b1 on track B
    slots = lua(
        tmp_path,
        """local d = input()
print(J.encode(J.stem_slots(d, function(p) return p.id:sub(1, 1) end)))""",
        placements,
    )
    assert slots == [1, 2, 3, 4] * 3
    names = lua(
        tmp_path,
        "print(J.encode({ J.stem_track_name('Vox', 'music'), J.stem_track_name('', 'rest') }))",
    )
    assert names == ["Vox - music", "Track - rest"]


# The `reaper` and `gfx` APIs as REAPER documents them (reaper.fm/sdk/reascript), over a
# project of tracks and items given as data; it records what the script does to them. The
# window's mouse and close events arrive at the poll numbers the test gives; a press names
# the label it lands on (where the script drew that text) or gives a point.
REAPER_HARNESS = r"""
local d = input()
local state = { tracks = J.array(), undo = J.array(), ext = {}, deferred = {},
                messages = J.array(), atexit = {}, drawn = {}, polls = 0, draws_after_close = 0 }
for i, name in ipairs(d.tracks) do state.tracks[i] = { name = name, items = J.array() } end
local handles = J.array()
for i, it in ipairs(d.items) do handles[i] = { data = it, takes = J.array() } end
local function track_index(t)
  for i, x in ipairs(state.tracks) do if x == t then return i end end
end
reaper = {
  get_action_context = function() return true, d.script end,
  GetOS = function() return 'Linux' end,
  GetExtState = function(_, k) return state.ext[k] or '' end,
  HasExtState = function(_, k) return state.ext[k] ~= nil end,
  SetExtState = function(_, k, v) state.ext[k] = v end,
  GetUserInputs = function(_, n, captions, defaults)
    local names = J.array()
    for c in (captions:gsub(',separator=.*$', '') .. ','):gmatch('(.-),') do
      names[#names + 1] = c
    end
    assert(#names == n, #names .. ' captions for ' .. n .. ' inputs')
    state.dialog = { captions = names, defaults = defaults }
    return true, table.concat(d.answers, '\t')
  end,
  GetSet_LoopTimeRange = function() return d.time_sel[1], d.time_sel[2] end,
  CountProjectMarkers = function()
    local regions = 0
    for _, m in ipairs(d.markers) do if m.region then regions = regions + 1 end end
    return #d.markers, #d.markers - regions, regions
  end,
  EnumProjectMarkers2 = function(_, i)
    local m = d.markers[i + 1]
    if not m then return 0 end
    return i + 1, m.region, m.start, m.stop or 0, m.name, i + 1
  end,
  CountSelectedMediaItems = function() return #handles end,
  GetSelectedMediaItem = function(_, i) return handles[i + 1] end,
  GetActiveTake = function(item) return { data = item.data } end,
  TakeIsMIDI = function() return false end,
  GetMediaItemTake_Source = function(take)
    local file = { path = take.data.source }
    if not take.data.section then return file end
    return { section = take.data.section, parent = file }
  end,
  GetMediaSourceParent = function(src) return src.parent end,
  PCM_Source_GetSectionInfo = function(src)
    local s = src.section
    if not s then return false, 0, 0, false end
    return true, s.offs, s.len, s.rev
  end,
  GetMediaSourceFileName = function(src) return src.path or '' end,
  GetMediaItem_Track = function(item) return state.tracks[item.data.track or 1] end,
  GetSetMediaTrackInfo_String = function(t, _, v, set) if set then t.name = v end
    return true, t.name end,
  GetSetMediaItemInfo_String = function(item) return true, item.data.guid end,
  GetSetMediaItemTakeInfo_String = function(tk, _, v, set) if set then tk.name = v end
    return true, tk.name or (tk.data and tk.data.guid) or '' end,
  GetMediaItemInfo_Value = function(item, k)
    return ({ D_POSITION = item.data.position, D_LENGTH = item.data.length })[k]
  end,
  GetMediaItemTakeInfo_Value = function(take, k)
    local v = take.data
    return ({ D_STARTOFFS = v.startoffs, D_PLAYRATE = v.playrate, I_CHANMODE = v.chanmode,
              B_PPITCH = 1 })[k]
  end,
  GetMediaTrackInfo_Value = function(t, k) assert(k == 'IP_TRACKNUMBER'); return track_index(t) end,
  InsertTrackAtIndex = function(i) -- "clamped to 0..GetNumTracks()"
    i = math.max(0, math.min(i, #state.tracks))
    table.insert(state.tracks, i + 1, { name = '', items = J.array() })
  end,
  GetTrack = function(_, i) return state.tracks[i + 1] end,
  AddMediaItemToTrack = function(t) local it = { values = {}, takes = J.array() }
    t.items[#t.items + 1] = it; return it end,
  SetMediaItemInfo_Value = function(it, k, v) it.values[k] = v end,
  AddTakeToMediaItem = function(it) local tk = { values = {} }; it.takes[#it.takes + 1] = tk
    return tk end,
  PCM_Source_CreateFromFile = function(p) return { path = p } end,
  SetMediaItemTake_Source = function(tk, src) tk.source = src.path end,
  SetMediaItemTakeInfo_Value = function(tk, k, v) tk.values[k] = v end,
  Undo_BeginBlock2 = function() state.undo[#state.undo + 1] = 'begin' end,
  Undo_EndBlock2 = function(_, what) state.undo[#state.undo + 1] = 'end: ' .. what end,
  PreventUIRefresh = function() end, UpdateArrange = function() end,
  ShowMessageBox = function(m) state.messages[#state.messages + 1] = m end,
  EnumProjects = function(i) assert(i == -1); return {}, d.project_file end,
  GetProjectPath = function() return d.record_path end,
  RecursiveCreateDirectory = function(p) os.execute('mkdir -p ' .. J.quote(p)) end,
  defer = function(fn) state.deferred[#state.deferred + 1] = fn end,
  atexit = function(fn) state.atexit[#state.atexit + 1] = fn end,
}
gfx = { w = 0, h = 0, x = 0, y = 0, mouse_x = 0, mouse_y = 0, mouse_cap = 0,
        init = function(_, w, h) gfx.w, gfx.h = w, h end, quit = function() end,
        set = function() end, rect = function() end,
        measurestr = function(s) return 8 * #s, 12 end,
        drawstr = function(s)
          if state.closed then state.draws_after_close = state.draws_after_close + 1 end
          local w, h = gfx.measurestr(s)
          state.drawn[s] = { x = gfx.x, y = gfx.y, w = w, h = h }
          gfx.x = gfx.x + w
        end,
        update = function() end,
        getchar = function() return state.closed and -1 or 0 end }
local function happen(e)
  if e.press or e.move then
    local at = state.drawn[e.press or e.move]
    local x, y = table.unpack(at and { at.x + at.w / 2, at.y + at.h / 2 } or e.at)
    gfx.mouse_x, gfx.mouse_y = x, y
    if e.press then gfx.mouse_cap = 1 end
  elseif e.release then gfx.mouse_cap = 0
  elseif e.close then state.closed = true
  elseif e.terminate then state.terminated = true end
end
dofile(d.script)
local deadline = os.time() + 90
while #state.deferred > 0 do
  state.polls = state.polls + 1
  for _, e in ipairs(d.events) do if e.poll == state.polls then happen(e) end end
  if state.terminated then break end
  table.remove(state.deferred, 1)()
  os.execute('sleep 0.05')
  assert(os.time() < deadline, 'the script never finished polling')
end
for _, fn in ipairs(state.atexit) do fn() end -- REAPER runs them when a script ends or is stopped
print(J.encode({ tracks = state.tracks, undo = state.undo, messages = state.messages,
                 polls = state.polls, dialog = state.dialog or J.null,
                 draws_after_close = state.draws_after_close,
                 source_takes = (function() local n = J.array()
                   for i, h in ipairs(handles) do n[i] = #h.takes end
                   return n end)() }))
"""

ITEM_A = {
    "guid": "{A}",
    "position": 10.0,
    "length": 2.0,
    "startoffs": 0.5,
    "playrate": 1.0,
    "chanmode": 0,
}
ITEM_B = {
    "guid": "{B}",
    "position": 20.0,
    "length": 2.0,
    "startoffs": 0.25,
    "playrate": 0.5,
    "chanmode": 2,
}


def _reaper_run(
    home: Path,
    seconds: float,
    items: list[dict] | None = None,
    events: list[dict] | None = None,
    answers: dict[str, str] | None = None,
    tracks: tuple[str, ...] = ("Vox",),
    time_sel: tuple[float, float] = (0, 0),
    markers: tuple[dict, ...] = (),
    project_file: str | None = None,
    exe: Path | None = None,
) -> dict:
    """Run clapsep_reaper.lua against the harness with a real `clapsep job` behind it."""
    import sys

    source = home / "media" / "vox.wav"
    if not source.exists():
        write_noise(source, seconds, 48000)
    if exe is None:
        exe = home / "clapsep"
        exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m clapsep.host "$@"\n')
        exe.chmod(0o755)
    given = {
        "preset": "",
        "query": "a person speaking",
        "negative": "",
        "stems": "target,residual",
        "exe": str(exe),
        "place": "tracks",
        "time_sel": "render",
    } | (answers or {})
    order = ("preset", "query", "negative", "stems", "exe", "place", "time_sel")
    return lua(
        home,
        REAPER_HARNESS,
        {
            "items": [{"source": str(source), **it} for it in (items or [ITEM_A, ITEM_B])],
            "tracks": list(tracks),
            "time_sel": list(time_sel),
            "markers": list(markers),
            "events": events or [],
            "answers": [given[k] for k in order],
            "project_file": project_file
            if project_file is not None
            else str(home / "songs" / "song.RPP"),
            "record_path": str(home / "songs" / "Audio"),
            "script": str(LUA_DIR / "clapsep_reaper.lua"),
        },
    )


def _jobs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("job-*.json") if not p.name.endswith(".result.json"))


def _placed(track: dict) -> list[tuple[float, float, float, int]]:
    return [
        (
            i["values"]["D_POSITION"],
            i["values"]["D_LENGTH"],
            i["takes"][0]["values"]["D_PLAYRATE"],
            i["takes"][0]["values"]["I_CHANMODE"],
        )
        for i in track["items"]
    ]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path) -> Path:
    return make_home(tmp_path, monkeypatch, package)


def test_reaper_script_places_stems_on_new_tracks_in_one_undo_step(home: Path) -> None:
    state = _reaper_run(home, 3, answers={"negative": "music"})
    assert state["messages"] == [] and state["undo"] == ["begin", "end: CLAPSep: add stems"]
    assert [t["name"] for t in state["tracks"]] == ["Vox", "Vox - target", "Vox - residual"]
    assert len(state["dialog"]["captions"]) == 7
    (job,) = _jobs(home / "songs" / "clapsep")  # beside the project file
    assert json.loads(job.read_text())["query"] == {
        "positive": "a person speaking",
        "negative": "music",
    }
    for track in state["tracks"][1:]:
        assert _placed(track) == [
            (it["position"], it["length"], it["playrate"], it["chanmode"])
            for it in (ITEM_A, ITEM_B)
        ]
        for item, source_item in zip(track["items"], (ITEM_A, ITEM_B), strict=True):
            # the take's start offset and playrate pick the source section: 2 s of item
            # at playrate 0.5 are 1 s of source from D_STARTOFFS on
            first = round(source_item["startoffs"] * 48000)
            frames = round(source_item["length"] * source_item["playrate"] * 48000)
            take = item["takes"][0]
            assert Path(take["source"]).is_file() and take["values"]["D_STARTOFFS"] == 0
            assert f"_{first}-{first + frames}_" in Path(take["source"]).name
            assert Path(take["source"]).is_relative_to(home / "songs" / "clapsep")


def test_reaper_unsaved_project_renders_into_the_recording_folder(home: Path) -> None:
    state = _reaper_run(home, 3, items=[ITEM_A], project_file="")
    assert state["messages"] == [] and len(state["tracks"]) == 3
    assert len(_jobs(home / "songs" / "Audio" / "clapsep")) == 1


def test_reaper_section_sources_render_from_the_section_start(home: Path) -> None:
    section = {**ITEM_A, "section": {"offs": 0.75, "len": 2.5, "rev": False}}
    state = _reaper_run(home, 4, items=[section], answers={"stems": "target"})
    assert state["messages"] == []
    (take,) = state["tracks"][1]["items"][0]["takes"]
    first = round((0.75 + ITEM_A["startoffs"]) * 48000)  # D_STARTOFFS counts from the section
    assert f"_{first}-{first + 2 * 48000}_" in Path(take["source"]).name


def test_reaper_reversed_items_are_refused_with_a_message(home: Path) -> None:
    reversed_item = {**ITEM_A, "section": {"offs": 0.0, "len": 3.0, "rev": True}}
    state = _reaper_run(home, 3, items=[reversed_item])
    assert len(state["messages"]) == 1 and "reversed" in state["messages"][0]
    assert len(state["tracks"]) == 1 and not (home / "songs" / "clapsep").exists()


def test_reaper_stems_go_below_their_own_source_track_one_track_per_stem(home: Path) -> None:
    on_gtr = {**ITEM_B, "track": 2}
    state = _reaper_run(home, 3, items=[ITEM_A, on_gtr], tracks=("Vox", "Gtr"))
    assert [t["name"] for t in state["tracks"]] == [
        "Vox",
        "Vox - target",
        "Vox - residual",
        "Gtr",
        "Gtr - target",
        "Gtr - residual",
    ]
    assert [len(t["items"]) for t in state["tracks"]] == [0, 1, 1, 0, 1, 1]
    one = _reaper_run(home, 3, items=[ITEM_A], answers={"stems": "residual"})
    assert [t["name"] for t in one["tracks"]] == ["Vox", "Vox - residual"]


def test_reaper_cancel_button_stops_the_render_and_adds_nothing(home: Path) -> None:
    events = [{"poll": 2, "press": "Cancel"}, {"poll": 3, "release": True}]
    state = _reaper_run(home, 30, events=events)
    assert [t["name"] for t in state["tracks"]] == ["Vox"] and state["undo"] == []
    results = list((home / "songs" / "clapsep").glob("*.result.json"))
    assert len(results) == 1 and json.loads(results[0].read_text())["status"] == "cancelled"


def test_reaper_closing_the_window_or_stray_clicks_do_not_cancel(home: Path) -> None:
    events = [
        {"poll": 2, "press": "bar", "at": [40, 20]},  # on the progress bar
        {"poll": 3, "release": True},
        {"poll": 4, "press": "Cancel"},  # pressed on Cancel, released off it
        {"poll": 5, "move": "off", "at": [20, 50]},
        {"poll": 6, "release": True},
        {"poll": 7, "close": True},
    ]
    state = _reaper_run(home, 3, events=events)
    assert [t["name"] for t in state["tracks"]] == ["Vox", "Vox - target", "Vox - residual"]
    assert state["draws_after_close"] == 0 and state["polls"] > 7
    assert not list((home / "songs" / "clapsep").glob("*.cancel"))


def test_reaper_stopping_the_script_cancels_its_render(home: Path) -> None:
    state = _reaper_run(home, 30, events=[{"poll": 3, "terminate": True}])
    assert [t["name"] for t in state["tracks"]] == ["Vox"]
    (job,) = _jobs(home / "songs" / "clapsep")
    result = job.with_name(job.stem + ".result.json")
    for _ in range(600):
        if result.exists():
            break
        subprocess.run(["sleep", "0.1"], check=True)
    assert json.loads(result.read_text())["status"] == "cancelled"


def test_reaper_says_so_when_clapsep_cannot_start(home: Path) -> None:
    state = _reaper_run(home, 3, exe=home / "not installed" / "clapsep")
    assert len(state["messages"]) == 1 and "ended without a result" in state["messages"][0]
    assert "not installed/clapsep" in state["messages"][0] and len(state["tracks"]) == 1


def test_reaper_script_adds_takes_to_whole_items_and_tracks_for_cut_ones(home: Path) -> None:
    state = _reaper_run(home, 3, answers={"place": "takes"}, time_sel=(5.0, 21.0))
    # keeps item A whole, cuts item B at 21 s
    assert state["source_takes"] == [2, 0] and state["undo"] == ["begin", "end: CLAPSep: add stems"]
    (job,) = _jobs(home / "songs" / "clapsep")
    assert not any("query_spans" in c for c in json.loads(job.read_text())["clips"])
    assert [t["name"] for t in state["tracks"]] == ["Vox", "Vox - target", "Vox - residual"]
    for track in state["tracks"][1:]:
        (item,) = track["items"]
        assert (item["values"]["D_POSITION"], item["values"]["D_LENGTH"]) == (20.0, 1.0)


def test_reaper_regions_and_a_target_time_selection_become_spans_of_whole_items(
    home: Path,
) -> None:
    markers = (
        {"region": True, "name": " Target ", "start": 9.5, "stop": 10.5},
        {"region": True, "name": "REMOVE", "start": 11.5, "stop": 21.0},
        {"region": True, "name": "verse", "start": 10.0, "stop": 22.0},
        {"region": False, "name": "target", "start": 21.5},
    )
    state = _reaper_run(
        home, 3, answers={"time_sel": "target"}, time_sel=(21.0, 21.5), markers=markers
    )
    assert state["messages"] == [] and len(state["tracks"]) == 3
    for track in state["tracks"][1:]:  # the time selection did not cut the items
        assert [p[:2] for p in _placed(track)] == [(10.0, 2.0), (20.0, 2.0)]
    (job,) = _jobs(home / "songs" / "clapsep")
    a, b = json.loads(job.read_text())["clips"]
    # item A plays source 0.5 + (t - 10); item B, at playrate 0.5, 0.25 + (t - 20) * 0.5
    assert a["query_spans"] == [[0.5, 1.0]] and a["negative_spans"] == [[2.0, 2.5]]
    assert b["query_spans"] == [[0.75, 1.0]] and b["negative_spans"] == [[0.25, 0.75]]
