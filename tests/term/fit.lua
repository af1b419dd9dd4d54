-- tests/term/fit.lua EPOCHS: a small MLP trained by nn.fit with the live view (tests/term).
local nn = require "nn"
nn.manual_seed(1)
local x = nn.randn(512, 2)
local y = (x:select(2, 1) * x:select(2, 2)):gt(0):long() + 1
local model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
  nn.Linear(32, 2))
print("log line before training")
local h = nn.fit(model, {x, y}, {epochs = tonumber(arg[1]), batch = 16, val = {x, y},
  optim = nn.optim.SGD(model:parameters(), {lr = 0.05}), viz = true})
print(string.format("fit returned %d epochs%s", #h.train_loss,
  h.interrupted and " (interrupted)" or ""))
