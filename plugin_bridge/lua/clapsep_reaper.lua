-- @description CLAPSep: isolate a sound in the selected items (stems on new tracks or takes)
-- @about Renders the selected items (cut to the time selection, when there is one) with
--   `clapsep job` in the background and puts each stem on a new track "<track> - <stem>"
--   below the source track (or, when asked, as a new take of a wholly rendered item), at
--   exactly the item's position, length, playrate and channel mode, in one undo step.
--   Needs clapsep_job.lua in the same folder. The settings (preset, query, stems, path of
--   clapsep, tracks or takes) are asked for and remembered.

local script_path = ({ reaper.get_action_context() })[2]
package.path = script_path:match('^(.*[/\\])') .. '?.lua;' .. package.path
local J = require('clapsep_job')

local EXT = 'clapsep'
local WINDOWS = reaper.GetOS():match('Win') ~= nil

local FIELDS = { 'preset', 'query', 'stems', 'exe', 'place' }
local DEFAULTS = { preset = '', query = '', stems = 'target,residual', exe = 'clapsep', place = 'tracks' }

local function ask()
  local saved = {}
  for i, key in ipairs(FIELDS) do
    local value = reaper.GetExtState(EXT, key)
    saved[i] = value ~= '' and value or DEFAULTS[key]
  end
  local ok, answer = reaper.GetUserInputs('CLAPSep', #FIELDS, 'Preset name (or empty),Query text (or empty),'
    .. 'Stems,clapsep program,Put stems on (tracks/takes),separator=\t', table.concat(saved, '\t'))
  if not ok then return nil end
  local options, i = {}, 0
  for value in (answer .. '\t'):gmatch('(.-)\t') do
    i = i + 1
    options[FIELDS[i]] = value
    reaper.SetExtState(EXT, FIELDS[i], value, true)
  end
  local list = {}
  for stem in options.stems:gmatch('[^,%s]+') do list[#list + 1] = stem end
  options.stems = list
  return options
end

local function collect()
  local ts_start, ts_end = reaper.GetSet_LoopTimeRange(false, false, 0, 0, false)
  local time_sel = ts_end > ts_start and { start = ts_start, stop = ts_end } or nil
  local clips, places = {}, {}
  for i = 0, reaper.CountSelectedMediaItems(0) - 1 do
    local item = reaper.GetSelectedMediaItem(0, i)
    local take = reaper.GetActiveTake(item)
    if take and not reaper.TakeIsMIDI(take) then
      local source = reaper.GetMediaItemTake_Source(take)
      source = reaper.GetMediaSourceParent(source) or source -- section and reversed sources
      local track = reaper.GetMediaItem_Track(item)
      local _, track_name = reaper.GetSetMediaTrackInfo_String(track, 'P_NAME', '', false)
      local _, guid = reaper.GetSetMediaItemInfo_String(item, 'GUID', '', false)
      local clip, place = J.reaper_clip({
        id = guid, source = reaper.GetMediaSourceFileName(source, ''), track = track_name,
        position = reaper.GetMediaItemInfo_Value(item, 'D_POSITION'),
        length = reaper.GetMediaItemInfo_Value(item, 'D_LENGTH'),
        startoffs = reaper.GetMediaItemTakeInfo_Value(take, 'D_STARTOFFS'),
        playrate = reaper.GetMediaItemTakeInfo_Value(take, 'D_PLAYRATE'),
        chanmode = math.floor(reaper.GetMediaItemTakeInfo_Value(take, 'I_CHANMODE')),
      }, time_sel)
      if clip then
        clips[#clips + 1] = clip
        place.item, place.track = item, track
        place.preserve_pitch = reaper.GetMediaItemTakeInfo_Value(take, 'B_PPITCH')
        places[guid] = place
      end
    end
  end
  return clips, places
end

local function stem_track(cache, source_track, name)
  if cache[name] then return cache[name] end
  local index = math.floor(reaper.GetMediaTrackInfo_Value(source_track, 'IP_TRACKNUMBER')) -- 1-based: below it
  for _ in pairs(cache) do index = index + 1 end
  reaper.InsertTrackAtIndex(index, true)
  local track = reaper.GetTrack(0, index)
  reaper.GetSetMediaTrackInfo_String(track, 'P_NAME', name, true)
  cache[name] = track
  return track
end

-- A new take on the source item when asked for and the stem covers the whole item;
-- otherwise a new item on the stem's track, at the rendered part's position and length.
local function new_take(tracks, place, p, as_take)
  if as_take and place.whole then return reaper.AddTakeToMediaItem(place.item) end
  local track = stem_track(tracks, place.track, (p.track ~= '' and p.track or 'Track') .. ' - ' .. p.stem)
  local item = reaper.AddMediaItemToTrack(track)
  reaper.SetMediaItemInfo_Value(item, 'D_POSITION', p.position)
  reaper.SetMediaItemInfo_Value(item, 'D_LENGTH', place.length)
  return reaper.AddTakeToMediaItem(item)
end

local function place_results(result, places, as_take)
  local placements, errors = J.placements(result)
  reaper.Undo_BeginBlock2(0)
  reaper.PreventUIRefresh(1)
  local tracks = {}
  for _, p in ipairs(placements) do
    local place = places[p.id]
    local take = new_take(tracks, place, p, as_take)
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

local function poll(job, places)
  local text = J.read_file(job.result)
  if text then
    gfx.quit()
    local ok, result = pcall(J.decode, text)
    if not ok then return reaper.ShowMessageBox(result, 'CLAPSep', 0) end
    if result.status == 'cancelled' then return end
    return place_results(result, places, job.as_take)
  end
  local fraction = J.progress(job.result)
  gfx.set(0.2, 0.2, 0.2); gfx.rect(0, 0, gfx.w, gfx.h)
  gfx.set(0.3, 0.7, 0.4); gfx.rect(10, 10, (gfx.w - 20) * fraction, 20)
  gfx.set(1, 1, 1); gfx.x, gfx.y = 10, 40
  gfx.drawstr(string.format('Rendering %d%%   [ Cancel ]', math.floor(fraction * 100)))
  local clicked = gfx.mouse_cap & 1 == 1 and gfx.mouse_y > 35
  if clicked or gfx.getchar() < 0 then
    J.write_file(job.cancel, 'cancel\n') -- clapsep stops and still writes the result
  end
  gfx.update()
  reaper.defer(function() poll(job, places) end)
end

local function main()
  local clips, places = collect()
  if #clips == 0 then
    return reaper.ShowMessageBox('Select audio items (and optionally a time selection) first.', 'CLAPSep', 0)
  end
  local options = ask()
  if not options then return end
  local folder = reaper.GetProjectPath('') .. '/clapsep'
  reaper.RecursiveCreateDirectory(folder, 0)
  local job_path = string.format('%s/job-%d.json', folder, os.time())
  J.write_file(job_path, J.encode(J.build_job(clips, options)))
  local job = J.paths(job_path)
  job.as_take = options.place:match('^%s*takes') ~= nil
  os.remove(job.result)
  os.remove(job.cancel)
  os.execute(J.background_command(options.exe, job_path, WINDOWS))
  gfx.init('CLAPSep', 320, 60)
  poll(job, places)
end

if reaper then main() end
