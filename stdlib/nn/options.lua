-- stdlib/nn/options.lua: options tables checked against the keys a function knows.
--
-- A misspelt option must not pass silently (nn.fit(m, d, {epoch = 3}) would train one epoch):
-- options.check(fname, opts, known) raises "fname: unknown option 'epoch' (did you mean
-- epochs?)" for any key not in known (a list of names, or a set {name = true}), and
-- returns opts (an empty table for nil).
local M = {}

-- the edit distance between two strings (insertions, deletions, substitutions)
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = {[0] = i}
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- the known name closest to key, when it is close enough to be what was meant
function M.nearest(key, known)
  local best, best_d = nil, math.huge
  for _, name in ipairs(known) do
    local d = distance(key, name)
    if d < best_d then best, best_d = name, d end
  end
  if best and best_d <= math.max(2, #key // 3) then return best end
  return nil
end

-- call_as(fname, f, ...): f(...), its error (from an internal C function such as nn._load_idx)
-- named as the user's function fname
local function finish(fname, ok, ...)
  if ok then return ... end
  local err = ...
  if type(err) == "string" then err = err:gsub("^nn%._[%w_]+:", fname .. ":", 1) end
  error(err, 0)
end

function M.call_as(fname, f, ...)
  return finish(fname, pcall(f, ...))
end

-- v as an integer when it is a whole number (784 / 2 is 392.0 in Lua 5.4: sizes computed by
-- division are floats), else nil
function M.whole(v)
  if type(v) == "number" then return math.tointeger(v) end
  return nil
end

function M.check(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(string.format("%s: options must be a table, got %s (%s)", fname, type(opts),
      tostring(opts)), 0)
  end
  if known[1] == nil then -- a set {name = value}: its names, sorted, for the messages
    local names = {}
    for k in pairs(known) do names[#names + 1] = k end
    table.sort(names)
    known = names
  end
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  for k in pairs(opts) do
    if not set[k] then
      local near = type(k) == "string" and M.nearest(k, known)
      local hint = near and string.format(" (did you mean %s?)", near)
        or string.format(" (known: %s)", table.concat(known, ", "))
      error(string.format("%s: unknown option '%s'%s", fname, tostring(k), hint), 0)
    end
  end
  return opts
end

-- the errors of nn.NAME: "nn.NAME: message", with no position (the message names the call)
function M.fail(fname, fmt, ...)
  error("nn." .. fname .. ": " .. string.format(fmt, ...), 0)
end

-- a tensor's shape as relua prints it: {2,3}
function M.shape_str(t)
  return "{" .. table.concat(t:shape(), ",") .. "}"
end

return M
