-- scripts/zoo.lua (E4: HeLU; Smooth activations and reproducibility; ReLU^2 Wins; SAU; Mish;
-- Searching for Activation Functions): a Fashion-MNIST MLP 784-256-256-10 (Adam 1e-3, batch
-- 128) per activation and seed. Prints test accuracy (mean over seeds), the activation
-- sparsity of each hidden layer (fraction of exact zeros on the test set), dead units (never
-- active on the test set), and the prediction difference between seeds (the fraction of
-- test images on which two seeds' models disagree, averaged over pairs).
-- The default run is short for a shared 2-core machine: 1 epoch on the first 20000 training
-- images, 3 seeds, ReLU HeLU GELU ReLU2. The full run (5 epochs, all 60000 images, the nine
-- activations of E4) is: relua scripts/zoo.lua full
-- Or: relua scripts/zoo.lua EPOCHS EXAMPLES ACT1,ACT2,...
local nn = require "nn"
local full = arg and arg[1] == "full"
local EPOCHS = full and 5 or tonumber(arg and arg[1]) or 1
local N = full and 60000 or tonumber(arg and arg[2]) or 20000
local names = full and "ReLU,HeLU,GELU,SiLU,Mish,SmeLU,SAU,ReLU2,PReLU"
  or (arg and arg[3]) or "ReLU,HeLU,GELU,ReLU2"
local SEEDS = 3
local x, y = nn.data.fashion_mnist("train")
x, y = x:narrow(1, 1, N), y:narrow(1, 1, N)
local xt, yt = nn.data.fashion_mnist("test")
local make = {PReLU = function() return nn.PReLU(256) end, SAU = function() return nn.SAU(256) end}
print(string.format("%-6s %9s %10s %10s %7s %7s %8s", "act", "test acc", "sparsity 1",
  "sparsity 2", "dead 1", "dead 2", "PD"))
for name in names:gmatch("[^,]+") do
  local acc, sp, dead, preds = 0, {0, 0}, {0, 0}, {}
  for seed = 1, SEEDS do
    nn.manual_seed(seed)
    local act = function() return make[name] and make[name]() or nn[name]() end
    local model = nn.Sequential(nn.Linear(784, 256), act(), nn.Linear(256, 256), act(),
      nn.Linear(256, 10))
    local h = nn.fit(model, {x, y}, {epochs = EPOCHS, batch = 128, val = {xt, yt},
      progress = false, optim = nn.optim.Adam(model, {lr = 1e-3})})
    acc = acc + h.val_acc[#h.val_acc] / SEEDS
    nn.no_grad(function()
      local a = xt
      for l = 1, 2 do
        a = model[2 * l](model[2 * l - 1](a))
        local zero = a:eq(0)
        sp[l] = sp[l] + zero:to("f32"):mean():item() / SEEDS
        dead[l] = dead[l] + zero:to("f32"):mean(1):eq(1):to("f32"):sum():item() / SEEDS
      end
      preds[seed] = model[5](a):argmax(2)
    end)
  end
  local pd, pairs_ = 0, 0
  for i = 1, SEEDS do
    for j = i + 1, SEEDS do
      pd = pd + preds[i]:ne(preds[j]):to("f32"):mean():item()
      pairs_ = pairs_ + 1
    end
  end
  print(string.format("%-6s %8.2f%% %10.3f %10.3f %7.1f %7.1f %7.2f%%", name, 100 * acc, sp[1],
    sp[2], dead[1], dead[2], 100 * pd / pairs_))
end
