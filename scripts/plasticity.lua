-- scripts/plasticity.lua: loss of plasticity and its cure (E12; "Loss of Plasticity in Deep
-- Continual Learning", Dohare et al., 2024).
--
--   relua scripts/plasticity.lua [tasks=40] [examples=6000] [png=docs/plasticity.png]
--
-- Permuted Fashion-MNIST: every task is Fashion-MNIST under a fresh random permutation of
-- the pixels; a 784-100-100-10 ReLU MLP sees `examples` training images of each task once
-- (batch 16, Adam 1e-3) and goes on to the next task without any reset. After each task it is
-- tested on 2000 test images under that task's permutation (new-task accuracy), and the dead
-- units are counted (hidden units that are zero on all of 1000 images of the task). Two
-- learners run the same sequence: backprop, and continual backprop (the same plus the renewal
-- of low-utility units, replacement rate 1e-4, maturity 100, decay 0.99). Prints a table per
-- block of tasks and saves a figure of both curves.
local nn = require "nn"
local viz = require "viz"

local tasks = math.tointeger(tonumber(arg and arg[1])) or 40
local examples = math.tointeger(tonumber(arg and arg[2])) or 6000
local png = arg and arg[3] or "docs/plasticity.png"
local block = math.max(1, tasks // 8)

nn.manual_seed(0)
local xtr, ytr = nn.data.fashion_mnist("train")
local xte, yte = nn.data.fashion_mnist("test")
xte, yte = xte:narrow(1, 1, 2000):contiguous(), yte:narrow(1, 1, 2000):contiguous()

local function mlp()
  return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
    nn.Linear(100, 10))
end

local learners = {}
for _, spec in ipairs{{"backprop", 0}, {"continual_backprop", 1e-4}} do
  nn.manual_seed(1) -- the same initial network for both
  local model = mlp()
  local rule = nn.rules.continual_backprop(model, {replacement_rate = spec[2], maturity = 100,
    decay = 0.99, optim = nn.optim.Adam(model, {lr = 1e-3})})
  learners[#learners + 1] = {name = spec[1], model = model, rule = rule, acc = {}, dead = {}}
end

-- the fraction of hidden units that are zero on every image of x
local function dead_fraction(model, x)
  return nn.no_grad(function()
    local h1 = model[2](model[1](x))
    local h2 = model[4](model[3](h1))
    local d = h1:gt(0):sum(1):eq(0):sum():item() + h2:gt(0):sum(1):eq(0):sum():item()
    return d / (h1:size(2) + h2:size(2))
  end)
end

local v = viz.open{title = "permuted Fashion-MNIST: new-task accuracy and dead units",
  width = 960, height = 600, headless = true}
v:smoothing(0)
v:labels("task", "new-task accuracy, fraction of dead units")

print(string.format("%d tasks of %d images each, batch 16, Adam 1e-3, 784-100-100-10", tasks,
  examples))
print(string.format("%-9s %-20s %-20s %-12s %-12s", "tasks", "backprop acc", "cbp acc",
  "bp dead", "cbp dead"))
local t0 = nn.time()
local sums = {}
for task = 1, tasks do
  local perm = nn.randperm(784)
  local start = (task - 1) * examples % (60000 - examples) + 1
  local x = xtr:narrow(1, start, examples):index_select(2, perm):contiguous()
  local y = ytr:narrow(1, start, examples):contiguous()
  local xt = xte:index_select(2, perm):contiguous()
  local order = nn.randperm(examples)
  for _, L in ipairs(learners) do
    for i = 1, examples - 15, 16 do
      local idx = order:narrow(1, i, 16)
      L.rule:step(x:index_select(1, idx), y:index_select(1, idx))
    end
    local acc = L.rule:predict(xt):eq(yte):double():mean():item()
    local dead = dead_fraction(L.model, x:narrow(1, 1, 1000))
    L.acc[task], L.dead[task] = acc, dead
    v:plot(L.name .. " accuracy", task, acc)
    v:plot(L.name .. " dead units", task, dead)
    local s = sums[L.name] or {acc = 0, dead = 0}
    sums[L.name] = s
    s.acc, s.dead = s.acc + acc, s.dead + dead
  end
  if task % block == 0 or task == tasks then
    local n = (task - 1) % block + 1
    local bp, cbp = sums.backprop, sums.continual_backprop
    print(string.format("%-9s %-20s %-20s %-12s %-12s", (task - n + 1) .. "-" .. task,
      string.format("%.2f%%", 100 * bp.acc / n), string.format("%.2f%%", 100 * cbp.acc / n),
      string.format("%.1f%%", 100 * bp.dead / n), string.format("%.1f%%", 100 * cbp.dead / n)))
    sums = {}
  end
end
print(string.format("%.0f s; continual backprop renewed %d units", nn.time() - t0,
  learners[2].rule.replaced))
print("saved " .. v:save(png))
