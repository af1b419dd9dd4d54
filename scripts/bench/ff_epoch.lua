-- scripts/bench/ff_epoch.lua [rounds=3]: the cost of a forward-forward epoch against a
-- backprop epoch (relua only; the goal is <= 2). Fashion-MNIST, 784-500-500 ReLU, batch 128,
-- Adam 1e-3, one epoch at a time by nn.fit without validation, in turns (FF/BP, then BP/FF:
-- the machine's drift hits both alike); backprop trains the same MLP with a 10-way head.
-- Prints the medians of the seconds and of the rounds' FF/BP ratios.
local nn = require "nn"
local rounds = math.tointeger(tonumber(arg[1])) or 3
nn.manual_seed(1)
local x, y = nn.data.fashion_mnist("train")
local ff_model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 500), nn.ReLU())
local rule = nn.rules.forward_forward(ff_model, {})
local bp_model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 500), nn.ReLU(),
  nn.Linear(500, 10))
local opt = nn.optim.Adam(bp_model, {lr = 1e-3})

local function epoch(which)
  if which == "ff" then
    return nn.fit(ff_model, {x, y}, {epochs = 1, batch = 128, rule = rule, progress = false}).seconds[1]
  end
  return nn.fit(bp_model, {x, y}, {epochs = 1, batch = 128, optim = opt, progress = false}).seconds[1]
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  return n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
end

local ff, bp, ratios = {}, {}, {}
for r = 1, rounds do
  local a, b
  if r % 2 == 1 then
    a = epoch("ff")
    b = epoch("bp")
  else
    b = epoch("bp")
    a = epoch("ff")
  end
  ff[r], bp[r], ratios[r] = a, b, a / b
end
print("ff_epoch_seconds " .. median(ff))
print("bp_epoch_seconds " .. median(bp))
print("ratio " .. median(ratios))
