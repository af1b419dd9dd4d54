-- scripts/bench/conv.lua: nn.Conv2d forward, and forward+backward, on the two conv layers of
-- the Fashion-MNIST CNN (batch 128, 3x3, padding 1): 32->64 channels on 14x14 and 1->32 on
-- 28x28, as "name seconds" lines (the best of timed batches). conv.py runs the same in
-- PyTorch (oneDNN); `BENCH=conv bash scripts/bench/run build` prints the ratios.
local nn = require "nn"

local BUDGET = tonumber(os.getenv("CONV_BUDGET") or "1.0")
local time_best = dofile((arg[0]:match("^(.*)/") or ".") .. "/best.lua")
local function best(n, f) return time_best(n, function(k) for _ = 1, k do f() end end, BUDGET) end

-- name, batch, cin, cout, size, kernel, padding (the same list as conv.py)
local SHAPES = {{"conv_32_64_14", 128, 32, 64, 14, 3, 1}, {"conv_1_32_28", 128, 1, 32, 28, 3, 1}}
nn.manual_seed(1)
for _, s in ipairs(SHAPES) do
  local name, n, cin, cout, size, k, pad = table.unpack(s)
  local conv = nn.Conv2d(cin, cout, k, {padding = pad})
  local x = nn.randn(n, cin, size, size):requires_grad_()
  local g = nn.randn(n, cout, size, size)
  print(name .. "_fwd", best(5, function() nn.no_grad(function() return conv(x) end) end))
  print(name .. "_fwd_bwd", best(3, function()
    local y = conv(x)
    x.grad = nil
    conv:zero_grad()
    y:backward(g)
  end))
end
