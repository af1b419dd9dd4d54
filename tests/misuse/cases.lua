-- tests/misuse/cases.lua: the misuse catalogue, as data: the cases of every area, each file
-- of tests/misuse/cases/ (one per area) a list of wrong calls
--   {code, fname, values}
-- returned here as {area, code, fname, values}, in the order of AREAS. code runs in a fresh
-- process (tests/misuse/child.lua) and must raise a Lua error whose message names fname (the
-- function the user called, plain text; a list gives alternatives) and shows each string of
-- values (a value may be a list of alternatives); it must not crash, hang, or name anything
-- internal (tests/misuse/check.lua says exactly what is checked). The values are the
-- offending values as the user wrote them, not the wording around them.
local AREAS = {"tensors", "autograd", "modules", "losses", "optimizers", "data", "files",
  "recurrences", "conv", "rules", "distributed", "viz"}

local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local cases = {}
for _, area in ipairs(AREAS) do
  for _, c in ipairs(dofile(dir .. "/cases/" .. area .. ".lua")) do
    cases[#cases + 1] = {area, c[1], c[2], c[3]}
  end
end
return cases
