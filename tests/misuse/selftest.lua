-- tests/misuse/selftest.lua BUILD_RELUA: the judge of the misuse catalogue judged. check.lua
-- runs on made-up outcomes (what a crash, a hang, a silent acceptance or a poor message
-- leaves behind) and must fail each of them for the right reason, and pass the good ones:
-- a catalogue whose checker could not fail would prove nothing.
local relua = arg[1] or "build/relua"
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local good = "MISUSE-ERROR\nnn.f: size 5 is wrong\n"
-- {name, output, exit status, what check.lua must say ("ok" or the reason it fails)}
local outcomes = {
  {"a good message", good, 0, "ok"},
  {"a traceback after a good message",
    "MISUSE-ERROR\nnn.f: size 5\nstack traceback:\n\t[C]: in ?\n", 0, "ok"},
  {"a crash", good, 139, "crashed (signal 11)"},
  {"a hang", "", 124, "hung"},
  {"a crash at exit", good, 1, "exited with status 1"},
  {"no error", "MISUSE-NOERROR\n", 0, "raised no error"},
  {"another function", "MISUSE-ERROR\nnn.g: size 5\n", 0, "does not name nn.f"},
  {"no value", "MISUSE-ERROR\nnn.f: the size is wrong\n", 0, "does not show the value 5"},
  {"an internal name", "MISUSE-ERROR\nnn.f: nn._conv: size 5\n", 0, "names an internal function"},
  {"a bare Lua error", "MISUSE-ERROR\nnn.f 5: attempt to index a nil value (local 'x')\n", 0,
    "bare Lua runtime error"},
  {"a stdlib position", "MISUSE-ERROR\n/x/stdlib/nn/f.lua:3: nn.f: size 5\n", 0,
    "starts with a position in a library file"},
}
local cases, ids = {}, {}
for i, o in ipairs(outcomes) do
  cases[i] = {"selftest", "-- " .. o[1], "nn.f", {"5"}}
  ids[i] = tostring(i)
  local f = assert(io.open(dir .. "/" .. i .. ".out", "w"))
  f:write(o[2])
  f:close()
  f = assert(io.open(dir .. "/" .. i .. ".rc", "w"))
  f:write(o[3], "\n")
  f:close()
end
local list = dir .. "/cases.lua"
local f = assert(io.open(list, "w"))
f:write("return {\n")
for _, c in ipairs(cases) do
  f:write(string.format("  {%q, %q, %q, {%q}},\n", c[1], c[2], c[3], c[4][1]))
end
f:write("}\n")
f:close()
local p = assert(io.popen(string.format("MISUSE_CASES=%s %s tests/misuse/check.lua %s 20 %s",
  list, relua, dir, table.concat(ids, " "))))
local verdicts = {}
for line in p:lines() do
  local i = line:match("^ok misuse selftest (%d+):")
  if i then verdicts[tonumber(i)] = "ok" end
  local j, why = line:match("^not ok misuse selftest (%d+):.*: (.-)$")
  if j then verdicts[tonumber(j)] = why end
end
p:close()
os.execute("rm -rf " .. dir)
local failed = 0
for i, o in ipairs(outcomes) do
  local v = verdicts[i] or "no verdict"
  local right = (o[4] == "ok" and v == "ok")
    or (o[4] ~= "ok" and v ~= "ok" and v:find(o[4], 1, true) ~= nil)
  failed = failed + (right and 0 or 1)
  print(string.format("%s misuse checker: %s %s%s", right and "ok" or "not ok", o[1],
    o[4] == "ok" and "passes" or "fails", right and "" or " (it said: " .. v .. ")"))
end
os.exit(failed == 0 and 0 or 1)
