-- scripts/bench/ops.lua: the tensor core's costs, as "name seconds" lines (the best of
-- repeated batches). The same workloads are in ops.py for PyTorch; scripts/bench/run compares.
local nn = require "nn"

local BUDGET = 1.5
local time_best = dofile((arg[0]:match("^(.*)/") or ".") .. "/best.lua")
local function best(n, f) return time_best(n, f, BUDGET) end

local a, b = nn.rand(1), nn.rand(1)
print("add_1elem", best(20000, function(n) for _ = 1, n do local c = a + b end end))
print("relu_1elem", best(20000, function(n) for _ = 1, n do local c = a:relu() end end))

local x, y = nn.rand(1000000), nn.rand(1000000)
print("add_1e6", best(20, function(n) for _ = 1, n do local c = x + y end end))
print("tanh_1e6", best(20, function(n) for _ = 1, n do local c = x:tanh() end end))

-- a softmax and a log-softmax over 128 x 10^4 f32 logits, along the rows
local logits = nn.randn(128, 10000)
print("softmax_128x1e4",
  best(10, function(n) for _ = 1, n do local c = nn.softmax(logits, 2) end end))
print("log_softmax_128x1e4",
  best(10, function(n) for _ = 1, n do local c = nn.log_softmax(logits, 2) end end))
local leaf, g = logits:clone():requires_grad_(), nn.randn(128, 10000)
for _, f in ipairs({"softmax", "log_softmax"}) do
  print(f .. "_fwdbwd_128x1e4",
    best(5, function(n) for _ = 1, n do nn[f](leaf, 2):backward(g) end end))
end

local m1, m2 = nn.rand(1024, 1024), nn.rand(1024, 1024)
print("matmul_1024", best(5, function(n) for _ = 1, n do local c = m1:matmul(m2) end end))

-- the first-hour ops on a 1000 x 1000 f32 matrix
local s = nn.randn(1000, 1000)
print("sort_rows_1e6", best(2, function(n) for _ = 1, n do local v, i = s:sort(2) end end))
print("topk10_rows_1e6", best(5, function(n) for _ = 1, n do local v, i = s:topk(10) end end))
print("cumsum_rows_1e6", best(10, function(n) for _ = 1, n do local c = s:cumsum(2) end end))
print("cumprod_cols_1e6", best(10, function(n) for _ = 1, n do local c = s:cumprod(1) end end))
print("flip_rows_1e6", best(10, function(n) for _ = 1, n do local c = s:flip(2) end end))
