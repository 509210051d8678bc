ardour {
  ["type"] = "EditorAction",
  name = "CLAPSep: isolate a sound in the selected regions",
  license = "GPL-3.0-or-later",
  description = [[Renders the selected audio regions with `clapsep job` in the background
(a progress window with Cancel) and imports each stem the job returns as a new track
"<track> - <stem>" at exactly the region's position. Range markers named "target" or
"remove" over a region are example spans of what to keep or take out. Needs
clapsep_job.lua beside this script and the clapsep program on PATH (or set CLAPSEP to its
path).]]
}

function factory ()
  local last = nil -- the dialog's answers, offered again while Ardour runs

  return function ()
    local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
    package.path = here .. "?.lua;" .. ARDOUR.user_config_directory(-1) .. "/scripts/?.lua;" .. package.path
    local J = require("clapsep_job")

    local function message(text, kind)
      LuaDialog.Message("CLAPSep", text, kind or LuaDialog.MessageType.Info, LuaDialog.ButtonType.Close):run()
    end

    -- The track whose playlist holds the region (the region's own name when none does).
    local function track_name(region)
      local id = region:to_stateful():id()
      for route in Session:get_tracks():iter() do
        local track = route:to_track()
        if not track:isnil() and not track:playlist():region_by_id(id):isnil() then return route:name() end
      end
      return region:name()
    end

    -- Range markers (not the session, loop or punch range) as marks, in samples.
    local marks = {}
    for loc in Session:locations():list():iter() do
      if loc:is_range_marker() then
        marks[#marks + 1] = { name = loc:name(), start = loc:start():samples(), stop = loc:_end():samples() }
      end
    end

    local rate = Session:nominal_sample_rate()
    local clips, channel_of, position_of = {}, {}, {}
    for r in Editor:get_selection().regions:regionlist():iter() do
      local ar = r:to_audioregion()
      if not ar:isnil() then
        local sources = {}
        for n = 0, r:master_sources():size() - 1 do
          sources[#sources + 1] = r:source(n):to_filesource():path()
        end
        local region_clips, channels = J.ardour_clips({
          id = r:to_stateful():id():to_s(), sources = sources, track = track_name(r),
          position = r:position():samples(), start = r:start():samples(), length = r:length():samples(),
        }, rate, marks)
        for _, clip in ipairs(region_clips) do
          clips[#clips + 1] = clip
          channel_of[clip.id] = channels[clip.id]
          position_of[clip.id] = r:position():samples()
        end
      end
    end
    if #clips == 0 then return message("Select one or more audio regions first.") end

    last = last or { preset = "", query = "", negative = "", stems = "target,residual",
                     exe = os.getenv("CLAPSEP") or "clapsep" }
    local answer = LuaDialog.Dialog("CLAPSep", {
      { type = "entry", key = "preset", title = "Preset name (or empty)", default = last.preset },
      { type = "entry", key = "query", title = "Query text (or empty)", default = last.query },
      { type = "entry", key = "negative", title = "Not this (or empty)", default = last.negative },
      { type = "entry", key = "stems", title = "Stems (empty: the preset's)", default = last.stems },
      { type = "entry", key = "exe", title = "clapsep program", default = last.exe },
    }):run()
    if not answer then return end
    last = answer
    local options = { preset = answer.preset, query = answer.query, negative = answer.negative,
                      stems = J.stem_list(answer.stems) }

    local folder = Session:path() .. "/clapsep"
    os.execute("mkdir -p " .. J.quote(folder))
    local job_path = J.new_job_path(folder, os.time())
    J.write_file(job_path, J.encode(J.build_job(clips, options)))
    local job = J.paths(job_path)
    for _, stale in ipairs({ job.result, job.cancel, job.ended }) do os.remove(stale) end
    os.execute(J.background_command(answer.exe, job_path, false))

    -- Poll the background render; the progress window keeps Ardour drawing and its
    -- Cancel button asks clapsep to stop (it still writes a result, which ends the loop).
    local pdialog = LuaDialog.ProgressWindow("CLAPSep", true)
    local state, result, cancelled_at
    while true do
      state, result = J.job_state(job)
      if state ~= "running" then break end
      local fraction = J.progress(job.result)
      local text = cancelled_at and "Cancelling ..." or string.format("Rendering %d%%", math.floor(fraction * 100))
      if pdialog:progress(fraction, text) and not cancelled_at then
        J.write_file(job.cancel, "cancel\n")
        cancelled_at = ARDOUR.LuaAPI.monotonic_time()
      end
      if cancelled_at and ARDOUR.LuaAPI.monotonic_time() - cancelled_at > 60e6 then
        state = "stuck"
        break
      end
      ARDOUR.LuaAPI.usleep(100000)
    end
    pdialog:done()
    if state == "lost" then
      return message("clapsep ended without a result:\n" .. J.log_tail(job.log) .. "\n(see " .. job.log .. ")",
                     LuaDialog.MessageType.Error)
    elseif state == "stuck" then
      return message("clapsep did not stop within a minute of Cancel; see " .. job.log, LuaDialog.MessageType.Error)
    elseif state == "bad" then
      return message(result, LuaDialog.MessageType.Error)
    elseif result.status == "cancelled" then
      return
    end

    -- Import each stem as a new track at the region's position and name the track it got.
    local function route_ids()
      local ids = {}
      for route in Session:get_routes():iter() do ids[route:to_stateful():id():to_s()] = true end
      return ids
    end
    local placements, errors = J.placements(result)
    for _, p in ipairs(placements) do
      local before = route_ids()
      local files = C.StringVector()
      files:push_back(p.path)
      local pos = Temporal.timepos_t(position_of[p.id] or math.floor(p.position * rate + 0.5))
      Editor:do_import(files, Editing.ImportDistinctFiles, Editing.ImportAsTrack, ARDOUR.SrcQuality.SrcBest,
                       ARDOUR.MidiTrackNameSource.SMFTrackName, ARDOUR.MidiTempoMapDisposition.SMFTempoIgnore,
                       pos, ARDOUR.PluginInfo(), ARDOUR.Track(), false)
      local name = J.stem_track_name(p.track, p.stem) .. (channel_of[p.id] and (" " .. channel_of[p.id]) or "")
      for route in Session:get_routes():iter() do
        if not before[route:to_stateful():id():to_s()] then route:set_name(name) end
      end
    end
    if #errors > 0 then message(table.concat(errors, "\n"), LuaDialog.MessageType.Warning) end
  end
end
