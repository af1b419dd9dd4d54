-- scripts/bench/ops.lua: the tensor core's costs, as "name seconds" lines (the lowest of a
-- few repeats). The same workloads are in ops.py for PyTorch; scripts/bench/run compares.
local nn = require "nn"
local clock = nn.time

local function best(reps, n, f)
  local t = math.huge
  for _ = 1, reps do
    local t0 = clock()
    f(n)
    t = math.min(t, (clock() - t0) / n)
  end
  return t
end

local a, b = nn.rand(1), nn.rand(1)
print("add_1elem", best(5, 200000, function(n) for _ = 1, n do local c = a + b end end))
print("relu_1elem", best(5, 200000, function(n) for _ = 1, n do local c = a:relu() end end))

local x, y = nn.rand(1000000), nn.rand(1000000)
print("add_1e6", best(5, 200, function(n) for _ = 1, n do local c = x + y end end))

local m1, m2 = nn.rand(1024, 1024), nn.rand(1024, 1024)
print("matmul_1024", best(3, 10, function(n) for _ = 1, n do local c = m1:matmul(m2) end end))
