-- scripts/local_rules.lua: trains the local and forward-only rules (forward_forward,
-- predictive_coding, forward_gradient) on Fashion-MNIST and prints their accuracy per epoch.
--   build/relua scripts/local_rules.lua [rule] [epochs] [--test]
-- Tuning uses the last 10000 training images as validation; --test reports the test set.
local rule_name = arg[1] or "forward_forward"
local epochs = tonumber(arg[2])
local use_test = arg[3] == "--test"
nn.manual_seed(1)
local xtr, ytr = nn.data.fashion_mnist("train")
local xv, yv
if use_test then
  xv, yv = nn.data.fashion_mnist("test")
else
  xv, yv = xtr:narrow(1, 50001, 10000), ytr:narrow(1, 50001, 10000)
  xtr, ytr = xtr:narrow(1, 1, 50000), ytr:narrow(1, 1, 50000)
end

-- Forward-forward gets standardized pixels (the training set's mean and std, as
-- torchvision's Normalize) and its label written as 5: both chosen on the validation split
-- (20 epochs, both layers scored: 86.2%; with the second layer alone, as Hinton scores
-- deeper nets, 81.9%, and 81.1% with raw pixels and label 1).
local label_value = 5
if rule_name == "forward_forward" or rule_name == "collaborative" then
  local mean, std = xtr:mean():item(), xtr:std():item()
  xtr, xv = (xtr - mean) / std, (xv - mean) / std
end

local function mlp(sizes, last_relu)
  local mods = {}
  for i = 1, #sizes - 1 do
    mods[#mods + 1] = nn.Linear(sizes[i], sizes[i + 1])
    if i < #sizes - 1 or last_relu then mods[#mods + 1] = nn.ReLU() end
  end
  return nn.Sequential(mods)
end

local model, rule
if rule_name == "forward_forward" then
  epochs = epochs or 20
  model = mlp({784, 500, 500}, true)
  rule = nn.rules.forward_forward(model, {optim = nn.optim.Adam(model, {lr = 1e-3}),
    label_value = label_value})
elseif rule_name == "collaborative" then
  epochs = epochs or 20
  model = mlp({784, 500, 500}, true)
  rule = nn.rules.forward_forward(model, {collaborative = true, label_value = label_value})
elseif rule_name == "predictive_coding" then
  epochs = epochs or 10
  model = mlp({784, 256, 128, 10})
  rule = nn.rules.predictive_coding(model, {loss = nn.cross_entropy})
elseif rule_name == "forward_gradient" then
  epochs = epochs or 10
  model = mlp({784, 256, 128, 10})
  rule = nn.rules.forward_gradient(model, {loss = nn.cross_entropy})
elseif rule_name == "forward_gradient_lr" then
  epochs = epochs or 10
  model = mlp({784, 256, 128, 10})
  rule = nn.rules.forward_gradient(model, {loss = nn.cross_entropy, estimator = "lr", K = 16})
elseif rule_name == "backprop" then
  epochs = epochs or 1
  model = mlp({784, 500, 500, 10})
end
if rule_name == "forward_gradient" or rule_name == "forward_gradient_lr" then
  -- its own loop: the loss against steps and the cosine of the update to the true gradient
  local step, best, t0 = 0, 0, nn.time()
  local names = {}
  for _, l in ipairs(nn.rules.linear_layers("x", model)) do names[#names + 1] = l.name end
  local run_loss, run_n = 0, 0
  for e = 1, epochs do
    for xb, yb in nn.data.loader({xtr, ytr}, {batch = 128, shuffle = true}) do
      step = step + 1
      run_loss, run_n = run_loss + rule:step(xb, yb), run_n + 1
      if step % 100 == 0 then
        local ang = rule:angles(xb, yb)
        local cs = {}
        for i, n in ipairs(names) do cs[i] = string.format("%.3f", math.cos(math.rad(ang[n]))) end
        print(string.format("step %5d loss %.4f cosine per layer %s", step, run_loss / run_n,
          table.concat(cs, " ")))
        run_loss, run_n = 0, 0
      end
    end
    local acc = rule:predict(xv):eq(yv):double():mean():item()
    best = math.max(best, acc)
    print(string.format("%s epoch %d acc %.2f%% %.0fs", rule_name, e, 100 * acc, nn.time() - t0))
  end
  print(string.format("%s best %.2f%% (%s)", rule_name, 100 * best, use_test and "test" or "val"))
  os.exit(0)
end
local h = nn.fit(model, {xtr, ytr}, {epochs = epochs, batch = 128, rule = rule, val = {xv, yv}})
local best = 0
for e = 1, epochs do
  best = math.max(best, h.val_acc[e])
  print(string.format("%s epoch %d acc %.2f%% %.1fs", rule_name, e, 100 * h.val_acc[e], h.seconds[e]))
end
print(string.format("%s best %.2f%% (%s)", rule_name, 100 * best, use_test and "test" or "val"))
