-- clapsep_job.lua: the DAW-independent half of the REAPER and Ardour scripts.
--
-- Pure Lua 5.3/5.4 (no C modules: a DAW's embedded Lua cannot load Debian's lua-cjson):
-- a small JSON encoder/decoder for the job and result files, the maths that turns a
-- timeline item into a source section and marked ranges into spans of that source, and
-- the shell line that runs `clapsep job` in the background. Tested under a stock lua5.4
-- (tests/test_bridge_lua.py); the DAW scripts only add the API calls around it.

local M = {}

-- JSON ---------------------------------------------------------------------------

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format('\\u%04x', c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return false end end
  return n > 0 or getmetatable(t) == M.array_mt
end

M.array_mt = {}
function M.array(t) return setmetatable(t or {}, M.array_mt) end

function M.encode(v)
  local kind = type(v)
  if v == nil or v == M.null then return 'null'
  elseif kind == 'boolean' then return tostring(v)
  elseif kind == 'number' then
    assert(v == v and v ~= math.huge and v ~= -math.huge, 'cannot encode NaN or infinity')
    if math.type(v) == 'integer' then return tostring(v) end
    return string.format('%.17g', v)
  elseif kind == 'string' then return encode_string(v)
  elseif kind == 'table' then
    local parts = {}
    if is_array(v) then
      for i = 1, #v do parts[i] = M.encode(v[i]) end
      return '[' .. table.concat(parts, ',') .. ']'
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do parts[i] = encode_string(k) .. ':' .. M.encode(v[k]) end
    return '{' .. table.concat(parts, ',') .. '}'
  end
  error('cannot encode a ' .. kind)
end

M.null = setmetatable({}, { __tostring = function() return 'null' end })

function M.decode(text)
  local pos = 1
  local function fail(what) error(string.format('bad JSON at byte %d: %s', pos, what), 0) end
  local function skip() pos = text:find('[^ \t\r\n]', pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = text:sub(i, i)
      if c == '' then fail('unterminated string') end
      if c == '"' then pos = i + 1; return table.concat(out) end
      if c == '\\' then
        local e = text:sub(i + 1, i + 1)
        local simple = { b = '\b', f = '\f', n = '\n', r = '\r', t = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/' }
        if simple[e] then out[#out + 1] = simple[e]; i = i + 2
        elseif e == 'u' then
          local code = tonumber(text:sub(i + 2, i + 5), 16) or fail('bad \\u escape')
          if code >= 0xD800 and code <= 0xDBFF and text:sub(i + 6, i + 7) == '\\u' then
            local low = tonumber(text:sub(i + 8, i + 11), 16) or fail('bad surrogate')
            code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
            i = i + 6
          end
          out[#out + 1] = utf8.char(code); i = i + 6
        else fail('bad escape') end
      else out[#out + 1] = c; i = i + 1 end
    end
  end
  function value()
    skip()
    local c = text:sub(pos, pos)
    if c == '{' then
      local obj = {}
      pos = pos + 1; skip()
      if text:sub(pos, pos) == '}' then pos = pos + 1; return obj end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail('expected a key') end
        local k = str(); skip()
        if text:sub(pos, pos) ~= ':' then fail("expected ':'") end
        pos = pos + 1
        local v = value()
        if v ~= M.null then obj[k] = v end
        skip()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == '}' then return obj elseif d ~= ',' then fail("expected ',' or '}'") end
      end
    elseif c == '[' then
      local arr = M.array()
      pos = pos + 1; skip()
      if text:sub(pos, pos) == ']' then pos = pos + 1; return arr end
      while true do
        arr[#arr + 1] = value(); skip()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == ']' then return arr elseif d ~= ',' then fail("expected ',' or ']'") end
      end
    elseif c == '"' then return str()
    elseif text:sub(pos, pos + 3) == 'true' then pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == 'false' then pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == 'null' then pos = pos + 4; return M.null
    end
    local num = text:match('^-?%d+%.?%d*[eE]?[-+]?%d*', pos)
    if not num or num == '' then fail('unexpected character') end
    pos = pos + #num
    return math.tointeger(tonumber(num)) or tonumber(num)
  end
  local result = value(); skip()
  if pos <= #text then fail('trailing text') end
  return result
end

-- Spans ------------------------------------------------------------------------------

-- A REAPER region or an Ardour range marker named `target` or `remove` (any case, spaces
-- around ignored) marks where the target sounds alone or what to take out: the job clip
-- key it fills, else nil.
local SPAN_KEYS = { target = 'query_spans', remove = 'negative_spans' }

function M.span_key(name)
  return SPAN_KEYS[(name or ''):lower():match('^%s*(.-)%s*$')]
end

-- Spans in order, those that overlap or touch joined into one.
local function merged(spans)
  table.sort(spans, function(a, b) return a[1] < b[1] end)
  local out = M.array()
  for _, span in ipairs(spans) do
    local last = out[#out]
    if last and span[1] <= last[2] then last[2] = math.max(last[2], span[2])
    else out[#out + 1] = { span[1], span[2] } end
  end
  return out
end

-- Adds to `clip` the parts of `marks` ({ name, start, stop } in timeline units) that lie
-- within the timeline range first..last, as `query_spans` and `negative_spans` in seconds
-- of the clip's source: `to_source(t)` maps timeline time t there. A kind without spans
-- stays out of the clip. Returns the clip.
function M.add_spans(clip, marks, first, last, to_source)
  local found = {}
  for _, mark in ipairs(marks or {}) do
    local key = M.span_key(mark.name)
    local a, b = math.max(mark.start, first), math.min(mark.stop, last)
    if key and b > a then
      found[key] = found[key] or {}
      table.insert(found[key], { to_source(a), to_source(b) })
    end
  end
  for key, spans in pairs(found) do clip[key] = merged(spans) end
  return clip
end

-- Timeline maths ---------------------------------------------------------------------

-- REAPER take I_CHANMODE: 2 = mono downmix; the others (normal, reverse, one side) keep
-- every channel, and the new take gets the same I_CHANMODE, so it plays the same way.
local function reaper_channel_mode(chanmode)
  return chanmode == 2 and 'mono' or 'independent'
end

-- A REAPER item (D_POSITION, D_LENGTH, take D_STARTOFFS, D_PLAYRATE, I_CHANMODE) as a job
-- clip, cut to `cut` (the time selection) when that overlaps it; nil when nothing is left.
-- The take's start offset and playrate map the timeline to the source: timeline time t
-- plays source time D_STARTOFFS + (t - D_POSITION) * D_PLAYRATE. `item.section_offset` is
-- where a section source starts in its parent file (PCM_Source_GetSectionInfo), as
-- D_STARTOFFS counts from the section's start. `marks` (project time) over the item, cut
-- or not, become its spans (M.add_spans). The second value says how to place the stems
-- back: at `position` for `length` seconds with the take's playrate, so a stem of
-- (last - first) * playrate seconds of source fills exactly the rendered part (`whole`:
-- the item was not cut).
function M.reaper_clip(item, cut, marks)
  local first, last = item.position, item.position + item.length
  if cut and cut.stop > cut.start then
    first, last = math.max(first, cut.start), math.min(last, cut.stop)
  end
  if last <= first then return nil end
  local rate = item.playrate or 1.0
  local function to_source(t)
    return (item.section_offset or 0) + item.startoffs + (t - item.position) * rate
  end
  local clip = { id = item.id, source = item.source, track = item.track or '', position = first,
                 source_in = to_source(first), source_out = to_source(last),
                 channel_mode = reaper_channel_mode(item.chanmode) }
  return M.add_spans(clip, marks, item.position, item.position + item.length, to_source),
         { position = first, length = last - first, playrate = rate, chanmode = item.chanmode,
           whole = first == item.position and last == item.position + item.length }
end

-- An Ardour region (position, start offset into its sources, length, all in samples at
-- the session rate) as job clips, in seconds. Ardour keeps each channel of a region in
-- its own mono file, so a stereo region gives one clip per channel ("<id>:<n>"); the
-- second value maps such a clip's id to its channel number (none for a mono region).
-- `marks` (range markers, in samples) over the region become each clip's spans.
function M.ardour_clips(region, sample_rate, marks)
  local first, last = region.position, region.position + region.length
  local function to_source(t) return (region.start + t - first) / sample_rate end
  local clips, channels = {}, {}
  for n, source in ipairs(region.sources) do
    clips[n] = M.add_spans({ id = region.id .. ':' .. n, source = source, track = region.track or '',
                             position = first / sample_rate, source_in = to_source(first),
                             source_out = to_source(last) }, marks, first, last, to_source)
    if #region.sources > 1 then channels[clips[n].id] = n end
  end
  return clips, channels
end

-- Stem tracks ---------------------------------------------------------------------------

-- The name of the track a stem goes to: "<track> - <stem>".
function M.stem_track_name(track, stem)
  return ((track and track ~= '') and track or 'Track') .. ' - ' .. stem
end

-- For each placement, which stem track of its source track it goes to: one track per
-- source track and stem, numbered 1, 2, ... in the order the stems first appear, however
-- many stems the result lists (a split's dialogue, music, effects and rest as well as
-- target and residual). `group_of(p)` names the placement's source track.
function M.stem_slots(placements, group_of)
  local slots, groups = {}, {}
  for i, p in ipairs(placements) do
    local key = group_of(p)
    local group = groups[key] or { count = 0, slot = {} }
    groups[key] = group
    if not group.slot[p.stem] then
      group.count = group.count + 1
      group.slot[p.stem] = group.count
    end
    slots[i] = group.slot[p.stem]
  end
  return slots
end

-- Comma- or space-separated stem names as a list; nil when none are given (the preset's).
function M.stem_list(text)
  local list = {}
  for stem in (text or ''):gmatch('[^,%s]+') do list[#list + 1] = stem end
  return #list > 0 and list or nil
end

-- Job and result files ------------------------------------------------------------------

function M.build_job(clips, options)
  local job = { format = 'clapsep-job', version = 1, clips = M.array(clips) }
  if options.preset and options.preset ~= '' then job.preset = options.preset end
  if options.query and options.query ~= '' then job.query = { positive = options.query } end
  if options.negative and options.negative ~= '' then
    job.query = job.query or {}
    job.query.negative = options.negative
  end
  if options.stems then job.stems = M.array(options.stems) end
  return job
end

-- Placements from a result manifest: one per clip and stem, ordered as the clips were.
function M.placements(result)
  local out, errors = {}, {}
  for _, clip in ipairs(result.clips or {}) do
    if clip.error then errors[#errors + 1] = (clip.id or '?') .. ': ' .. clip.error end
    for _, stem in ipairs(clip.stems or {}) do
      out[#out + 1] = { id = clip.id, track = clip.track, stem = stem.stem, path = stem.path,
                        position = stem.position, length = stem.length, frames = stem.frames,
                        sample_rate = stem.sample_rate }
    end
  end
  if result.error and #errors == 0 then errors[1] = result.error end
  return out, errors
end

function M.read_file(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local text = f:read('a')
  f:close()
  return text
end

function M.write_file(path, text)
  local tmp = path .. '.tmp'
  local f = assert(io.open(tmp, 'wb'))
  f:write(text)
  f:close()
  assert(os.rename(tmp, path))
end

-- The progress fraction `clapsep job` writes beside the result (0 until it appears).
function M.progress(result_path)
  local text = M.read_file(result_path .. '.progress')
  return text and tonumber(text:match('[%d.]+')) or 0
end

function M.paths(job_path)
  local base = job_path:gsub('%.json$', '')
  return { result = base .. '.result.json', cancel = base .. '.cancel', log = base .. '.log',
           ended = base .. '.ended' }
end

-- Shell quoting for the platform REAPER or Ardour runs on.
function M.quote(s, windows)
  if windows then return '"' .. s:gsub('"', '\\"') .. '"' end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A command line that starts `clapsep job` and returns at once. On POSIX systems the
-- shell writes `<job>.ended` when the program exits, so a poller stops waiting when
-- clapsep could not start or died without writing its result.
function M.background_command(exe, job_path, windows)
  local q = function(s) return M.quote(s, windows) end
  local paths = M.paths(job_path)
  if windows then
    return 'cmd /c start "" /b ' .. q(exe) .. ' job ' .. q(job_path) .. ' > ' .. q(paths.log) .. ' 2>&1'
  end
  return '( ' .. q(exe) .. ' job ' .. q(job_path) .. ' > ' .. q(paths.log) .. ' 2>&1; echo $? > '
    .. q(paths.ended) .. ' ) > /dev/null 2>&1 &'
end

-- Where a background job stands: 'done' and the decoded result ('bad' and the decoding
-- error), 'lost' when the program ended without writing one (its log says why), else
-- 'running'.
function M.job_state(paths)
  local text = M.read_file(paths.result)
  if not text and M.read_file(paths.ended) then
    text = M.read_file(paths.result) -- written just before the program ended
    if not text then return 'lost' end
  end
  if not text then return 'running' end
  local ok, result = pcall(M.decode, text)
  if not ok then return 'bad', result end
  return 'done', result
end

-- The last lines of a log file, for a message.
function M.log_tail(path, count)
  local lines = {}
  for line in (M.read_file(path) or ''):gmatch('[^\n]+') do
    lines[#lines + 1] = line
    if #lines > (count or 5) then table.remove(lines, 1) end
  end
  return table.concat(lines, '\n')
end

-- A job file in `folder` that no earlier job used (two runs in one second included).
function M.new_job_path(folder, stamp)
  local n, path = 0, string.format('%s/job-%d.json', folder, stamp)
  while M.read_file(path) do
    n = n + 1
    path = string.format('%s/job-%d-%d.json', folder, stamp, n)
  end
  return path
end

return M
