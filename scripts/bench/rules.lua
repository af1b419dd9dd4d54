-- scripts/bench/rules.lua: one Fashion-MNIST epoch (784-256-128-10 ReLU, Adam 1e-3, batch
-- 128, batches in file order) trained by nn.rules.feedback_alignment, nn.rules.dfa and
-- nn.rules.backprop, each the best of `epochs` (arg 1, default 2) epochs; rules.py is
-- PyTorch's, written by hand under no_grad for FA and DFA.
local nn = require "nn"
local x, y = nn.data.fashion_mnist("train")
local epochs = tonumber(arg[1]) or 2

local function best_epoch(name)
  nn.manual_seed(1)
  local model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 10))
  local rule = nn.rules[name](model, name ~= "backprop" and {seed = 1} or nil)
  local best = math.huge
  for _ = 1, epochs do
    local t0 = nn.time()
    for xb, yb in nn.data.loader({x, y}, {batch = 128}) do rule:step(xb, yb) end
    best = math.min(best, nn.time() - t0)
  end
  return best
end

print("fa_epoch_seconds", best_epoch("feedback_alignment"))
print("dfa_epoch_seconds", best_epoch("dfa"))
print("backprop_epoch_seconds", best_epoch("backprop"))
