-- scripts/rules.lua: every learning rule of nn.rules on Fashion-MNIST, side by side.
--
--   relua scripts/rules.lua [--rules a,b] [--epochs n] [--val] [--figure docs/rules_angles.png]
--
-- Each entry below trains a fresh ReLU MLP (Adam 1e-3, batch 128, 10 epochs unless the entry
-- says otherwise) with one rule and reports its best test accuracy over the epochs, its time
-- per epoch (training and the test pass) and the final angles between its update and the
-- true gradient, per Linear layer (on 1000 training examples). --rules picks entries by rule
-- name or label, --epochs overrides every entry's epochs, --val holds out the last 10000
-- training examples and reports accuracy on them instead of the test set (what to look at
-- when tuning anything), --figure saves the angles over training (the live view's offscreen
-- backend) as a PNG. Entries whose rule is not in nn.rules are listed as "not built".
local nn = require "nn"

local function adam(lr) return function(params) return nn.optim.Adam(params, {lr = lr}) end end
local function sgd(lr, momentum)
  return function(params) return nn.optim.SGD(params, {lr = lr, momentum = momentum}) end
end

local MLP = {784, 256, 128, 10}
local ENTRIES = {
  {rule = "backprop", arch = MLP},
  {rule = "feedback_alignment", arch = MLP, opts = {seed = 1}},
  {rule = "dfa", arch = MLP, opts = {seed = 1}},
  {rule = "pfa", arch = MLP, opts = {seed = 1, expansion = 4}},
  -- the paper's setting: one hidden layer of 1024, SGD with momentum 0.9, lr 0.01, batch 64
  {rule = "pepita", arch = {784, 1024, 10}, batch = 64, optim = sgd(0.01, 0.9), opts = {seed = 1}},
  {rule = "pepita", label = "pepita 256-128", arch = MLP, opts = {seed = 1}},
  -- the control PEPITA must beat: the hidden layers stay at their initial weights
  {rule = "backprop", label = "frozen hidden", arch = MLP, train = "last"},
  -- forward-forward: ReLU on every layer, standardized pixels and the label written as 5 in
  -- the first pixels (chosen by its author on a validation split: scripts/local_rules.lua)
  {rule = "forward_forward", arch = {784, 500, 500}, epochs = 20, last_relu = true,
    standardize = true, opts = {label_value = 5}},
  {rule = "forward_gradient", arch = MLP, opts = {loss = nn.cross_entropy}},
  {rule = "predictive_coding", arch = MLP},
  {rule = "continual_backprop", arch = MLP},
}

-- ---- options ----

local function parse(args)
  local o = {}
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "--rules" then
      o.rules = {}
      for name in (args[i + 1] or ""):gmatch("[^,]+") do o.rules[name] = true end
      i = i + 2
    elseif a == "--epochs" then
      o.epochs = math.tointeger(tonumber(args[i + 1]))
      if not o.epochs or o.epochs < 1 then error("scripts/rules.lua: --epochs needs a number", 0) end
      i = i + 2
    elseif a == "--figure" then
      o.figure = args[i + 1]
      i = i + 2
    elseif a == "--val" then
      o.val, i = true, i + 1
    else
      error("scripts/rules.lua: unknown option " .. a ..
        " (--rules a,b  --epochs n  --val  --figure path.png)", 0)
    end
  end
  return o
end

local function label_of(e) return e.label or e.rule end

local function wanted(o, e)
  return not o.rules or o.rules[e.rule] or o.rules[label_of(e)]
end

-- ---- one entry ----

local function mlp(arch, last_relu)
  local layers = {}
  for i = 1, #arch - 1 do
    layers[#layers + 1] = nn.Linear(arch[i], arch[i + 1])
    if i < #arch - 1 or last_relu then layers[#layers + 1] = nn.ReLU() end
  end
  return nn.Sequential(layers)
end

local function last_linear(model)
  local last
  for _, m in model:named_modules() do
    if getmetatable(m) == nn.Linear then last = m end
  end
  return last
end

local function make_rule(e, model)
  local params = model:parameters()
  if e.train == "last" then
    local m = last_linear(model)
    params = {m.weight, m.bias}
  end
  local opts = {}
  for k, v in pairs(e.opts or {}) do opts[k] = v end
  local optim = (e.optim or adam(1e-3))(params)
  if e.rule ~= "pfa" or e.optim then opts.optim = optim end -- pfa's default Adam trains its R too
  return nn.rules[e.rule](model, opts)
end

local function median(list)
  local s = table.move(list, 1, #list, 1, {})
  table.sort(s)
  return #s == 0 and 0 / 0 or (s[(#s + 1) // 2] + s[#s // 2 + 1]) / 2
end

-- the angles per layer, in the order of the model's Linear layers: {names}, {degrees}
local function angles_of(rule, xa, ya)
  if not rule.angles then return nil end
  local ok, a = pcall(rule.angles, rule, xa, ya)
  if not ok or type(a) ~= "table" then return nil end
  local names = {}
  for name, m in rule.model:named_modules() do
    if getmetatable(m) == nn.Linear and a[name] then names[#names + 1] = name end
  end
  local out = {}
  for i, n in ipairs(names) do out[i] = a[n] end
  return out
end

local function run(e, o, d, figure)
  nn.manual_seed(1)
  local model = mlp(e.arch, e.last_relu)
  local rule = make_rule(e, model)
  local epochs = o.epochs or e.epochs or 10
  local x, xv = d.x, d.xv
  if e.standardize then -- by the training set's mean and std
    local mean, std = x:mean():item(), x:std():item()
    x, xv = (x - mean) / std, (xv - mean) / std
  end
  local xa, ya = x:narrow(1, 1, 1000), d.y:narrow(1, 1, 1000)
  local series, every = {}, 100
  local h = nn.fit(model, {x, d.y}, {rule = rule, epochs = epochs, batch = e.batch or 128,
    val = {xv, d.yv}, progress = o.progress,
    on_step = figure and e.train ~= "last" and function(info)
      local step = (info.epoch - 1) * info.steps + info.step
      if step % every == 1 then
        local a = angles_of(rule, xa, ya)
        for i, deg in ipairs(a or {}) do
          series[i] = series[i] or {x = {}, y = {}}
          table.insert(series[i].x, step / info.steps)
          table.insert(series[i].y, deg)
        end
      end
    end})
  local best = 0
  for _, acc in ipairs(h.val_acc) do best = math.max(best, acc) end
  return {best = best, last = h.val_acc[#h.val_acc], seconds = median(h.seconds),
    angles = e.train ~= "last" and angles_of(rule, xa, ya) or nil, series = series,
    epochs = epochs}
end

-- ---- the table ----

local function arch_str(a) return table.concat(a, "-") end

local function angles_str(a)
  if not a or #a == 0 then return "-" end
  local parts = {}
  for i, deg in ipairs(a) do parts[i] = string.format("%.0f", deg) end
  return table.concat(parts, " / ")
end

local function main(args)
  local o = parse(args)
  o.progress = false
  local x, y = nn.data.fashion_mnist("train")
  local d = {x = x, y = y}
  if o.val then
    d.x, d.y = x:narrow(1, 1, 50000), y:narrow(1, 1, 50000)
    d.xv, d.yv = x:narrow(1, 50001, 10000), y:narrow(1, 50001, 10000)
  else
    d.xv, d.yv = nn.data.fashion_mnist("test")
  end
  local what = o.val and "validation" or "test"
  print(string.format("%-20s %-14s %6s %10s %8s  %s", "rule", "MLP", "epochs",
    "best " .. what:sub(1, 4), "s/epoch", "angles per layer (deg), last"))
  local curves = {}
  for _, e in ipairs(ENTRIES) do
    if wanted(o, e) then
      local label = label_of(e)
      if not nn.rules[e.rule] then
        print(string.format("%-20s %-14s %6s %10s", label, arch_str(e.arch), "-", "not built"))
      else
        local ok, r = pcall(run, e, o, d, o.figure)
        if not ok then
          print(string.format("%-20s %-14s %6s %10s  %s", label, arch_str(e.arch), "-", "failed",
            tostring(r)))
          goto continue
        end
        print(string.format("%-20s %-14s %6d %9.2f%% %8.2f  %s", label, arch_str(e.arch),
          r.epochs, 100 * r.best, r.seconds, angles_str(r.angles)))
        curves[#curves + 1] = {label = label, series = r.series}
      end
      io.stdout:flush()
    end
    ::continue::
  end
  if o.figure then
    local viz = require "viz"
    local v = viz.open{title = "scripts/rules.lua: Fashion-MNIST, angle of each rule's update "
      .. "to the true gradient, hidden layers", width = 900, height = 500, headless = true}
    v:labels("epoch", "angle to the true gradient (degrees)")
    for _, c in ipairs(curves) do
      for i, s in ipairs(c.series) do -- the hidden layers (the last one's is 0 for most rules)
        local max = 0
        for _, deg in ipairs(s.y) do max = math.max(max, deg) end
        if i < #c.series and max > 1 then -- backprop's are all 0
          v:plot(string.format("%s layer %d", c.label, i), s.x, s.y)
        end
      end
    end
    v:save(o.figure)
    print("angles over training saved to " .. o.figure)
  end
end

main(arg or {})
