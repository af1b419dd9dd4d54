-- scripts/xor_prelu.lua (E1, "PReLU: Yet Another Single-Layer Solution to the XOR Problem"):
-- one PReLU neuron y = PReLU(w1 x1 + w2 x2) (two weights and a learnable slope, no bias, as
-- in the paper) against the same neuron with a bias, a GCU neuron z cos z ("Growing Cosine
-- Unit") and a 2-2-1 tanh MLP, each trained by full-batch Adam for 300 epochs on the 4 XOR
-- points with inputs in {-1, 1} (MSE to 0/1), 100 seeds per learning rate. A run succeeds
-- when all 4 outputs fall on the right side of 1/2. Prints the success rate per learning
-- rate and the mean learned slope, which goes to -1: PReLU becomes |z|, and
-- |x1 - x2| / 2 is XOR.
-- Usage: relua scripts/xor_prelu.lua [seeds=100 [epochs=300]]
local nn = require "nn"
local SEEDS, EPOCHS = tonumber(arg and arg[1]) or 100, tonumber(arg and arg[2]) or 300
local x = nn.tensor{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}}
local t = nn.tensor{{0}, {1}, {1}, {0}}

local GCU = nn.Module:extend("GCU")
function GCU:forward(z) return z * z:cos() end

local models = {
  {"PReLU neuron", function() return nn.Sequential(nn.Linear(2, 1, {bias = false}), nn.PReLU()) end},
  {"PReLU + bias", function() return nn.Sequential(nn.Linear(2, 1), nn.PReLU()) end},
  {"GCU neuron", function() return nn.Sequential(nn.Linear(2, 1), GCU()) end},
  {"2-2-1 tanh MLP", function() return nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)) end},
}
local rates = {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1}

local function trial(make, lr, seed)
  nn.manual_seed(seed)
  local model = make()
  local opt = nn.optim.Adam(model, {lr = lr})
  for _ = 1, EPOCHS do
    opt:zero_grad()
    nn.mse_loss(model(x), t):backward()
    opt:step()
  end
  local y = nn.no_grad(function() return model(x) end)
  local prelu = model[2].weight
  return y:gt(0.5):eq(t:gt(0.5)):sum():item() == 4, prelu and prelu[1]
end

print(string.format("%-16s %8s %10s %12s", "model", "lr", "success", "mean slope"))
for _, m in ipairs(models) do
  for _, lr in ipairs(rates) do
    local ok, slope = 0, 0
    for seed = 1, SEEDS do
      local solved, a = trial(m[2], lr, seed)
      if solved then ok = ok + 1 end
      slope = slope + (a or 0)
    end
    print(string.format("%-16s %8g %9.0f%% %12s", m[1], lr, 100 * ok / SEEDS,
      m[1]:find("PReLU") and string.format("%.3f", slope / SEEDS) or "-"))
  end
end
