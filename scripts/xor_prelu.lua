-- scripts/xor_prelu.lua (E1, "PReLU: Yet Another Single-Layer Solution to the XOR Problem"):
-- one PReLU neuron y = PReLU(w . x + b) (three weights and a learnable slope) against a 2-2-1
-- tanh MLP, trained by full-batch SGD on the 4 XOR points (MSE to 0/1). A run succeeds when
-- all 4 outputs fall on the right side of 1/2. Prints the success rate per learning rate
-- and the mean learned slope (it tends to -1: PReLU becomes |z|, and |x1 - x2| is XOR).
-- Usage: relua scripts/xor_prelu.lua [seeds=30 [steps=400]]; the paper's grid is 100 seeds.
local nn = require "nn"
local SEEDS, STEPS = tonumber(arg and arg[1]) or 30, tonumber(arg and arg[2]) or 400
local x = nn.tensor{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
local t = nn.tensor{{0}, {1}, {1}, {0}}
local models = {
  {"PReLU neuron", function() return nn.Sequential(nn.Linear(2, 1), nn.PReLU()) end},
  {"2-2-1 tanh MLP", function() return nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)) end},
}
local rates = {0.001, 0.01, 0.1, 0.3, 1}
print(string.format("%-16s %8s %10s %12s", "model", "lr", "success", "mean slope"))
for _, m in ipairs(models) do
  for _, lr in ipairs(rates) do
    local ok, slope = 0, 0
    for seed = 1, SEEDS do
      nn.manual_seed(seed)
      local model = m[2]()
      local opt = nn.optim.SGD(model, {lr = lr})
      for _ = 1, STEPS do
        opt:zero_grad()
        local loss = nn.mse_loss(model(x), t)
        loss:backward()
        opt:step()
      end
      local y = nn.no_grad(function() return model(x) end)
      local right = y:gt(0.5):eq(t:gt(0.5)):sum():item()
      if right == 4 then ok = ok + 1 end
      if model[2].weight then slope = slope + model[2].weight[1] end
    end
    print(string.format("%-16s %8g %9.0f%% %12s", m[1], lr, 100 * ok / SEEDS,
      m[1]:find("PReLU") and string.format("%.3f", slope / SEEDS) or "-"))
  end
end
