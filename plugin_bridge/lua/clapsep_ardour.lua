ardour {
  ["type"] = "EditorAction",
  name = "CLAPSep: isolate a sound in the selected regions",
  license = "GPL-3.0-or-later",
  description = [[Renders the selected audio regions with `clapsep job` and imports each stem
as a new track at exactly the region's position. Needs clapsep_job.lua beside this script
and the clapsep program on PATH (or set CLAPSEP to its path).]]
}

function factory ()
  return function ()
    local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
    package.path = here .. "?.lua;" .. ARDOUR.user_config_directory(-1) .. "/scripts/?.lua;" .. package.path
    local J = require("clapsep_job")

    local rate = Session:nominal_sample_rate()
    local clips = {}
    for r in Editor:get_selection().regions:regionlist():iter() do
      local ar = r:to_audioregion()
      if not ar:isnil() then
        local sources = {}
        for n = 0, r:master_sources():size() - 1 do
          sources[#sources + 1] = r:source(n):to_filesource():path()
        end
        for _, clip in ipairs(J.ardour_clips({
          id = r:to_stateful():id():to_s(), sources = sources, track = r:name(),
          position = r:position():samples(), start = r:start():samples(), length = r:length():samples(),
        }, rate)) do
          clips[#clips + 1] = clip
        end
      end
    end
    if #clips == 0 then
      LuaDialog.Message("CLAPSep", "Select one or more audio regions first.", LuaDialog.MessageType.Info,
                        LuaDialog.ButtonType.Close):run()
      return
    end

    local answer = LuaDialog.Dialog("CLAPSep", {
      { type = "entry", key = "preset", title = "Preset name (or empty)", default = "" },
      { type = "entry", key = "query", title = "Query text (or empty)", default = "" },
      { type = "entry", key = "exe", title = "clapsep program", default = os.getenv("CLAPSEP") or "clapsep" },
    }):run()
    if not answer then return end

    local folder = Session:path() .. "/clapsep"
    os.execute("mkdir -p " .. J.quote(folder))
    local job_path = string.format("%s/job-%d.json", folder, os.time())
    J.write_file(job_path, J.encode(J.build_job(clips, answer)))
    local job = J.paths(job_path)
    -- Ardour's Lua cannot poll without blocking its GUI thread: run to the end.
    os.execute(J.quote(answer.exe) .. " job " .. J.quote(job_path) .. " > " .. J.quote(job.log) .. " 2>&1")
    local text = J.read_file(job.result)
    if not text then
      LuaDialog.Message("CLAPSep", "clapsep wrote no result; see " .. job.log, LuaDialog.MessageType.Error,
                        LuaDialog.ButtonType.Close):run()
      return
    end
    local placements, errors = J.placements(J.decode(text))
    for _, p in ipairs(placements) do
      local files = C.StringVector()
      files:push_back(p.path)
      local pos = Temporal.timepos_t(math.floor(p.position * rate + 0.5))
      Editor:do_import(files, Editing.ImportDistinctFiles, Editing.ImportAsTrack, ARDOUR.SrcQuality.SrcBest,
                       ARDOUR.MidiTrackNameSource.SMFTrackName, ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore,
                       pos, ARDOUR.PluginInfo(), ARDOUR.Track(), false)
    end
    if #errors > 0 then
      LuaDialog.Message("CLAPSep", table.concat(errors, "\n"), LuaDialog.MessageType.Warning,
                        LuaDialog.ButtonType.Close):run()
    end
  end
end
