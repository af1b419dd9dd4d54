-- scripts/bench/temps.lua: large temporaries, dropped as soon as they are made, as in every
-- expression: `c = a + b` and `y = (a * b + c):relu()` (two dead temporaries per result) in
-- loops of 200 on 10^6 f32 elements. Prints "name seconds" lines, the best time per
-- iteration over repeated loops for BUDGET seconds (as ops.lua); temps.py is PyTorch's.
local nn = require "nn"

local BUDGET = 1.5
local time_best = dofile((arg[0]:match("^(.*)/") or ".") .. "/best.lua")
local function best(n, f) return time_best(n, f, BUDGET) end

local N = 1000000
local a, b, c = nn.rand(N), nn.rand(N), nn.rand(N)
local y
print("add_loop_1e6", best(200, function(n) for _ = 1, n do y = a + b end end))
print("mul_add_relu_loop_1e6", best(200, function(n) for _ = 1, n do y = (a * b + c):relu() end end))
