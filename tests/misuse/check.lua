-- tests/misuse/check.lua DIR LIMIT I...: judges what tests/misuse/run collected for the cases
-- I... in DIR (I.out: the case's output, I.rc: its exit status) and prints one TAP line per
-- case, then a "#" line counting the cases per area.
--
-- A case {area, code, fname, values} passes when its process exited normally (no signal, no
-- timeout, status 0) after the code raised an error whose message
--   - contains fname, the name of the function the user called (plain text; a list gives
--     alternatives: a module may be named by the documented function it is a thin wrapper
--     of, nn.Embedding by nn.embedding),
--   - contains every string of values (a value may be a list of alternatives),
--   - names nothing internal: no nn._name, no "attempt to index a nil value" or other bare
--     Lua runtime error, and does not start with a position in a library file (a stdlib
--     file:line standing in for the user's function). A traceback after the message (nn.fit
--     adds one to an error from inside training) is allowed; the message before it is judged.
local dir, limit = arg[1], tonumber(arg[2])
-- (from the top of the tree; MISUSE_CASES names another list, as tests/misuse/selftest.lua does)
local cases = dofile(os.getenv("MISUSE_CASES") or "tests/misuse/cases.lua")
local verbose = os.getenv("MISUSE_VERBOSE")

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function first_line(s, n)
  s = s:match("^[^\n]*")
  return #s > n and s:sub(1, n) .. "..." or s
end

local FORBIDDEN = {
  {"nn%._[%a_]", "names an internal function"},
  {"attempt to %a+ ", "is a bare Lua runtime error"},
  {"bad argument #%d+ to '", "is a bare error of a Lua library function"},
  {"stack overflow", "is a stack overflow"},
  {"not enough memory", "is an allocation failure of Lua's"},
  {"^%s*stack traceback", "is a bare stack traceback"},
  {"^[^%s:]+%.lua:%d+:", "starts with a position in a library file"},
  {"^%[C%]", "starts with a position in C"},
}

-- nil when the message of case c is right, else what is wrong with it
local function shows(msg, v) -- v: a string or a list of alternatives
  local alts = type(v) == "table" and v or {v}
  for _, a in ipairs(alts) do
    if msg:find(a, 1, true) then return true end
  end
  return false, table.concat(alts, " or ")
end

local function judge_message(c, msg)
  -- nn.fit passes an error from inside training on with the traceback of where it happened
  -- (the user's own forward, often): the message is what comes before it
  msg = msg:match("^(.-)\nstack traceback:") or msg
  local ok, want = shows(msg, c[3])
  if not ok then return string.format("does not name %s", want) end
  for _, v in ipairs(c[4] or {}) do
    ok, want = shows(msg, v)
    if not ok then return string.format("does not show the value %s", want) end
  end
  for _, f in ipairs(FORBIDDEN) do
    if msg:find(f[1]) then return f[2] end
  end
  return nil
end

-- nil when case i behaved, else what went wrong
local function judge(i, c)
  local out, rc = slurp(dir .. "/" .. i .. ".out") or "", tonumber(slurp(dir .. "/" .. i .. ".rc"))
  if rc == nil then return "did not run", out end
  if rc == 124 or rc == 137 then return string.format("hung (killed after %d s)", limit), out end
  if rc > 128 then return string.format("crashed (signal %d)", rc - 128), out end
  if out:find("MISUSE-NOERROR", 1, true) then return "raised no error", out end
  local msg = out:match("MISUSE%-ERROR\n(.-)\n?$")
  if rc ~= 0 then return string.format("exited with status %d", rc), out end
  if not msg then return "printed no result", out end
  local bad = judge_message(c, msg)
  return bad and "the message " .. bad or nil, msg
end

local per_area, areas, failed = {}, {}, 0
for k = 3, #arg do
  local i = tonumber(arg[k])
  local c = cases[i]
  local name = string.format("misuse %s %d: %s", c[1], i, first_line(c[2], 60))
  local bad, msg = judge(i, c)
  if bad then
    failed = failed + 1
    print(string.format("not ok %s: %s", name, bad))
    print("#   " .. (msg or ""):gsub("\n", "\n#   "))
  else
    print("ok " .. name)
    if verbose then print("#   " .. msg:gsub("\n", "\n#   ")) end
  end
  if not per_area[c[1]] then areas[#areas + 1] = c[1] end
  per_area[c[1]] = (per_area[c[1]] or 0) + 1
end
local counts = {}
for _, a in ipairs(areas) do counts[#counts + 1] = a .. " " .. per_area[a] end
print(string.format("# %d cases in %d areas (%s), %d failed", #arg - 2, #areas,
  table.concat(counts, ", "), failed))
os.exit(failed == 0 and 0 or 1)
