-- @description CLAPSep: isolate a sound in the selected items (stems on new tracks or takes)
-- @about Renders the selected items (cut to the time selection, unless it is asked to be
--   a target instead) with `clapsep job` in the background and puts each stem the job
--   returns on a new track "<track> - <stem>" below the source track (or, when asked, as a
--   new take of a wholly rendered item), at exactly the item's position, length, playrate
--   and channel mode, in one undo step. Regions named "target" or "remove" over an item
--   are example spans of what to keep or take out. Needs clapsep_job.lua in the same
--   folder. The settings (preset, query, negative query, stems, path of clapsep, tracks or
--   takes, what the time selection does) are asked for and remembered.

local script_path = ({ reaper.get_action_context() })[2]
package.path = script_path:match('^(.*[/\\])') .. '?.lua;' .. package.path
local J = require('clapsep_job')

local EXT = 'clapsep'
local WINDOWS = reaper.GetOS():match('Win') ~= nil

local FIELDS = { 'preset', 'query', 'negative', 'stems', 'exe', 'place', 'time_sel' }
local CAPTIONS = { 'Preset name (or empty)', 'Query text (or empty)', 'Not this (or empty)',
                   'Stems (empty: the preset\'s)', 'clapsep program', 'Put stems on (tracks/takes)',
                   'Time selection (render/target)' }
local DEFAULTS = { preset = '', query = '', negative = '', stems = 'target,residual', exe = 'clapsep',
                   place = 'tracks', time_sel = 'render' }

local function ask()
  local saved = {}
  for i, key in ipairs(FIELDS) do
    local value = reaper.GetExtState(EXT, key)
    saved[i] = reaper.HasExtState(EXT, key) and value or DEFAULTS[key]
  end
  local ok, answer = reaper.GetUserInputs('CLAPSep', #FIELDS,
    table.concat(CAPTIONS, ',') .. ',separator=\t', table.concat(saved, '\t'))
  if not ok then return nil end
  local options, i = {}, 0
  for value in (answer .. '\t'):gmatch('(.-)\t') do
    i = i + 1
    options[FIELDS[i]] = value
    reaper.SetExtState(EXT, FIELDS[i], value, true)
  end
  options.stems = J.stem_list(options.stems)
  return options
end

-- The file behind a take and where its section starts in that file: section sources
-- (REAPER's "section" items) count D_STARTOFFS from the section's start. Nil for a
-- reversed source, whose source time runs backwards.
local function source_of(take)
  local source, offset = reaper.GetMediaItemTake_Source(take), 0
  while true do
    local parent = reaper.GetMediaSourceParent(source)
    if not parent then break end
    local ok, offs, _, reversed = reaper.PCM_Source_GetSectionInfo(source)
    if ok and reversed then return nil end
    if ok then offset = offset + offs end
    source = parent
  end
  return reaper.GetMediaSourceFileName(source), offset
end

-- The selected audio items as J.reaper_clip takes them, with what placing their stems
-- needs; reversed items are named in `skipped`.
local function selected_items()
  local items, skipped = {}, {}
  for i = 0, reaper.CountSelectedMediaItems(0) - 1 do
    local item = reaper.GetSelectedMediaItem(0, i)
    local take = reaper.GetActiveTake(item)
    if take and not reaper.TakeIsMIDI(take) then
      local path, section_offset = source_of(take)
      local track = reaper.GetMediaItem_Track(item)
      local _, track_name = reaper.GetSetMediaTrackInfo_String(track, 'P_NAME', '', false)
      local _, guid = reaper.GetSetMediaItemInfo_String(item, 'GUID', '', false)
      if path then
        items[#items + 1] = {
          id = guid, source = path, track = track_name, section_offset = section_offset,
          position = reaper.GetMediaItemInfo_Value(item, 'D_POSITION'),
          length = reaper.GetMediaItemInfo_Value(item, 'D_LENGTH'),
          startoffs = reaper.GetMediaItemTakeInfo_Value(take, 'D_STARTOFFS'),
          playrate = reaper.GetMediaItemTakeInfo_Value(take, 'D_PLAYRATE'),
          chanmode = math.floor(reaper.GetMediaItemTakeInfo_Value(take, 'I_CHANMODE')),
          handle = item, track_handle = track,
          preserve_pitch = reaper.GetMediaItemTakeInfo_Value(take, 'B_PPITCH'),
        }
      else
        local _, name = reaper.GetSetMediaItemTakeInfo_String(take, 'P_NAME', '', false)
        skipped[#skipped + 1] = name .. ': reversed items are not rendered (un-reverse it first)'
      end
    end
  end
  return items, skipped
end

-- The project's regions as marks (J.add_spans keeps those named target or remove).
local function regions()
  local marks = {}
  for i = 0, reaper.CountProjectMarkers(0) - 1 do
    local _, is_region, start, stop, name = reaper.EnumProjectMarkers2(0, i)
    if is_region then marks[#marks + 1] = { name = name, start = start, stop = stop } end
  end
  return marks
end

-- The job clips of `items` and how to place each one's stems. The time selection cuts
-- the items, or with `as_target` renders them whole and is one more target region.
local function collect(items, as_target)
  local ts_start, ts_end = reaper.GetSet_LoopTimeRange(false, false, 0, 0, false)
  local cut = ts_end > ts_start and { start = ts_start, stop = ts_end } or nil
  local marks = regions()
  if cut and as_target then
    marks[#marks + 1] = { name = 'target', start = cut.start, stop = cut.stop }
    cut = nil
  end
  local clips, places = {}, {}
  for _, item in ipairs(items) do
    local clip, place = J.reaper_clip(item, cut, marks)
    if clip then
      clips[#clips + 1] = clip
      place.item, place.track, place.preserve_pitch = item.handle, item.track_handle, item.preserve_pitch
      places[item.id] = place
    end
  end
  return clips, places
end

-- Where the job, its log and the stems go: `clapsep/` beside the project file. An unsaved
-- project has no file yet; its media go where REAPER records an unsaved project's media.
local function job_folder()
  local _, project_file = reaper.EnumProjects(-1)
  local folder = project_file and project_file:match('^(.*)[/\\][^/\\]*$')
  if not folder or folder == '' then folder = reaper.GetProjectPath() end
  return folder .. '/clapsep'
end

-- Stem tracks go right below their source track, one per stem in the result's order.
local function stem_track(made, source_track, slot, name)
  made[source_track] = made[source_track] or {}
  local track = made[source_track][slot]
  if track then return track end
  local index = math.floor(reaper.GetMediaTrackInfo_Value(source_track, 'IP_TRACKNUMBER')) - 1 + slot
  reaper.InsertTrackAtIndex(index, true)
  track = reaper.GetTrack(0, index)
  reaper.GetSetMediaTrackInfo_String(track, 'P_NAME', name, true)
  made[source_track][slot] = track
  return track
end

-- A new take on the source item when asked for and the stem covers the whole item;
-- otherwise a new item on the stem's track, at the rendered part's position and length.
local function new_take(made, place, p, slot, as_take)
  if as_take and place.whole then return reaper.AddTakeToMediaItem(place.item) end
  local track = stem_track(made, place.track, slot, J.stem_track_name(p.track, p.stem))
  local item = reaper.AddMediaItemToTrack(track)
  reaper.SetMediaItemInfo_Value(item, 'D_POSITION', place.position)
  reaper.SetMediaItemInfo_Value(item, 'D_LENGTH', place.length)
  return reaper.AddTakeToMediaItem(item)
end

local function place_results(result, places, as_take, notes)
  local placements, errors = J.placements(result)
  for _, note in ipairs(notes) do errors[#errors + 1] = note end
  local slots = J.stem_slots(placements, function(p) return places[p.id].track end)
  reaper.Undo_BeginBlock2(0)
  reaper.PreventUIRefresh(1)
  local made = {}
  for i, p in ipairs(placements) do
    local place = places[p.id]
    local take = new_take(made, place, p, slots[i], as_take)
    reaper.SetMediaItemTake_Source(take, reaper.PCM_Source_CreateFromFile(p.path))
    reaper.SetMediaItemTakeInfo_Value(take, 'D_STARTOFFS', 0)
    reaper.SetMediaItemTakeInfo_Value(take, 'D_PLAYRATE', place.playrate)
    reaper.SetMediaItemTakeInfo_Value(take, 'B_PPITCH', place.preserve_pitch)
    reaper.SetMediaItemTakeInfo_Value(take, 'I_CHANMODE', place.chanmode)
    reaper.GetSetMediaItemTakeInfo_String(take, 'P_NAME', p.stem, true)
  end
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  reaper.Undo_EndBlock2(0, 'CLAPSep: add stems', -1)
  if #errors > 0 then reaper.ShowMessageBox(table.concat(errors, '\n'), 'CLAPSep', 0) end
end

-- The progress window. Only a full click on its Cancel button (pressed and released on
-- it) cancels; closing the window just hides it, and the stems still arrive.
local WIDTH, HEIGHT = 360, 76
local BUTTON = { x = WIDTH - 90, y = 40, w = 80, h = 26 }

local function on_button()
  return gfx.mouse_x >= BUTTON.x and gfx.mouse_x < BUTTON.x + BUTTON.w
     and gfx.mouse_y >= BUTTON.y and gfx.mouse_y < BUTTON.y + BUTTON.h
end

local function draw(job, fraction)
  gfx.set(0.2, 0.2, 0.2); gfx.rect(0, 0, gfx.w, gfx.h, 1)
  gfx.set(0.3, 0.7, 0.4); gfx.rect(10, 10, (gfx.w - 20) * fraction, 20, 1)
  gfx.set(1, 1, 1); gfx.x, gfx.y = 10, 46
  gfx.drawstr(job.cancelled and 'Cancelling ...' or string.format('Rendering %d%%', math.floor(fraction * 100)))
  local hover = on_button() and not job.cancelled
  gfx.set(hover and 0.55 or 0.4, hover and 0.55 or 0.4, hover and 0.55 or 0.4)
  gfx.rect(BUTTON.x, BUTTON.y, BUTTON.w, BUTTON.h, 1)
  gfx.set(1, 1, 1)
  local w, h = gfx.measurestr('Cancel')
  gfx.x, gfx.y = BUTTON.x + (BUTTON.w - w) / 2, BUTTON.y + (BUTTON.h - h) / 2
  gfx.drawstr('Cancel')
  gfx.update()
end

local function cancel(job)
  if job.cancelled then return end
  job.cancelled = true
  J.write_file(job.cancel, 'cancel\n') -- clapsep stops and still writes the result
end

local function watch_button(job)
  local down = gfx.mouse_cap & 1 == 1
  if down and not job.was_down then job.armed = on_button() end
  if not down and job.was_down and job.armed and on_button() then cancel(job) end
  if not down then job.armed = false end
  job.was_down = down
end

local function poll(job, places)
  local state, result = J.job_state(job)
  if state ~= 'running' then
    job.over = true
    gfx.quit()
    if state == 'lost' then
      return reaper.ShowMessageBox('clapsep ended without a result:\n' .. J.log_tail(job.log)
        .. '\n(see ' .. job.log .. ')', 'CLAPSep', 0)
    end
    if state == 'bad' then return reaper.ShowMessageBox(result, 'CLAPSep', 0) end
    if result.status == 'cancelled' then return end
    return place_results(result, places, job.as_take, job.notes)
  end
  if not job.hidden then
    if gfx.getchar() < 0 then
      job.hidden = true -- closed: the render goes on and the stems still arrive
    else
      watch_button(job)
      draw(job, J.progress(job.result))
    end
  end
  reaper.defer(function() poll(job, places) end)
end

local function main()
  local items, skipped = selected_items()
  local nothing = 'Select audio items (and optionally a time selection) first.'
  if #items == 0 then
    return reaper.ShowMessageBox(#skipped > 0 and table.concat(skipped, '\n') or nothing, 'CLAPSep', 0)
  end
  local options = ask()
  if not options then return end
  local clips, places = collect(items, options.time_sel:match('^%s*target') ~= nil)
  if #clips == 0 then return reaper.ShowMessageBox(nothing, 'CLAPSep', 0) end
  local folder = job_folder()
  reaper.RecursiveCreateDirectory(folder, 0)
  local job_path = J.new_job_path(folder, os.time())
  J.write_file(job_path, J.encode(J.build_job(clips, options)))
  local job = J.paths(job_path)
  job.as_take = options.place:match('^%s*takes') ~= nil
  job.notes = skipped
  os.remove(job.result)
  os.remove(job.cancel)
  os.remove(job.ended)
  os.execute(J.background_command(options.exe, job_path, WINDOWS))
  -- Stopping the script (Actions: terminate instances) stops its render too.
  reaper.atexit(function() if not job.over then cancel(job) end end)
  gfx.init('CLAPSep', WIDTH, HEIGHT)
  poll(job, places)
end

if reaper then main() end
