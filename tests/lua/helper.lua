-- tests/lua/helper.lua: loaded by busted before the specs (--helper). The specs run under
-- build/relua (nn is a global there) or stock lua5.4 (nn comes from build/nn.so, or from
-- $RELUA_BUILD/nn.so). Defines the global `th` of small test helpers.
local build = os.getenv("RELUA_BUILD") or "build"
package.cpath = build .. "/?.so;" .. package.cpath
nn = nn or require "nn"

th = {}

-- whether two numbers are equal within tol (nan equals nan)
local function close(a, b, tol)
  if a ~= a and b ~= b then return true end
  return math.abs(a - b) <= tol * (1 + math.abs(b))
end

local function compare(got, want, tol, path)
  if type(want) == "table" then
    if type(got) ~= "table" then return false, path .. ": expected a table, got " .. tostring(got) end
    if #got ~= #want then
      return false, path .. ": expected " .. #want .. " elements, got " .. #got
    end
    for i = 1, #want do
      local ok, msg = compare(got[i], want[i], tol, path .. "[" .. i .. "]")
      if not ok then return false, msg end
    end
    return true
  end
  if type(got) ~= "number" or not close(got, want, tol) then
    return false, path .. ": expected " .. tostring(want) .. ", got " .. tostring(got)
  end
  return true
end

-- asserts that tensor t holds the values want (nested tables or a number), within tol
function th.same(t, want, tol)
  assert(nn.is_tensor(t), "expected a tensor, got " .. type(t))
  local ok, msg = compare(t:totable(), want, tol or 1e-6, "x")
  assert(ok, msg)
end

-- asserts that f fails with a message containing each of the plain strings given
function th.fails(f, ...)
  local ok, err = pcall(f)
  assert(not ok, "expected an error, got none")
  err = tostring(err)
  for _, s in ipairs({...}) do
    assert(err:find(s, 1, true), "error message '" .. err .. "' lacks '" .. s .. "'")
  end
  return err
end

-- the shape as a string "{2,3}", to compare shapes in one assert
function th.shape(t)
  return "{" .. table.concat(t:shape(), ",") .. "}"
end
