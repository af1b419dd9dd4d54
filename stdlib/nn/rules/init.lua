-- stdlib/nn/rules/init.lua: learning rules, nn.rules.
--
-- A rule owns how a model learns from a batch. Every rule is a class made by rules.define and
-- answers the same protocol, which nn.fit relies on (opts.rule):
--   rule:step(x, y) -> loss (a number)    one update from one batch
--   rule:predict(x) -> class indices      (the model's argmax unless the rule says otherwise)
--   rule:angles(x, y) -> {layer = degrees} the rule's update against the true gradient
--   rule.optim                            the optimizer it steps (nn.fit reads it)
-- A rule computes its update as gradients: rule:gradients(x, y) -> loss fills p.grad for the
-- parameters it trains (the direction to descend), so that any optimizer applies it and
-- angles compares like with like. The rules themselves live in the files of this folder.
local nn = require "nn"

local R = {}

function R.fail(name, fmt, ...)
  error("nn.rules." .. name .. ": " .. string.format(fmt, ...), 0)
end

local Rule = {}
Rule.__index = Rule
R.Rule = Rule

-- R.define(name) -> a class whose :init(model, opts) the rule's file writes; nn.rules[name]
-- constructs it. The constructor checks the options common to every rule.
function R.define(name)
  local cls = setmetatable({rule_name = name}, {__index = Rule})
  cls.__index = cls
  cls.__tostring = function(self) return "nn.rules." .. name .. "(" .. tostring(self.model) .. ")" end
  R[name] = function(model, opts)
    if type(model) ~= "table" or not nn.Module.is_module(model) then
      R.fail(name, "expected a model (an nn.Module), got %s", type(model))
    end
    if opts ~= nil and type(opts) ~= "table" then
      R.fail(name, "options must be a table, got %s", type(opts))
    end
    local self = setmetatable({model = model, name = name}, cls)
    self:init(model, opts or {})
    return self
  end
  return cls
end

function Rule:init() end

function Rule:gradients()
  R.fail(self.name, "this rule does not compute gradients")
end

function Rule:step(x, y)
  self.model:zero_grad()
  local loss = self:gradients(x, y)
  self.optim:step()
  return loss
end

function Rule:predict(x)
  return nn.no_grad(function() return self.model(x):argmax(2) end)
end

-- The model's Linear layers in order, each {name, module}; an error naming the rule when
-- there is none (a rule that replaces W^T needs a W).
function R.linear_layers(name, model)
  local out = {}
  for lname, m in model:named_modules() do
    if getmetatable(m) == nn.Linear then out[#out + 1] = {name = lname, module = m} end
  end
  if #out == 0 then R.fail(name, "the model has no nn.Linear layer (it needs one to train)") end
  return out
end

-- The angle in degrees between two tensors seen as vectors (90 when either is zero).
function R.angle(u, v)
  local uu, vv = (u * u):sum():item(), (v * v):sum():item()
  if uu == 0 or vv == 0 then return 90 end
  local c = (u * v):sum():item() / math.sqrt(uu * vv)
  return math.deg(math.acos(math.max(-1, math.min(1, c))))
end

-- The true gradient (backprop through the model and opts.loss) of every Linear weight,
-- nothing accumulated: {layer name = gradient}.
function Rule:true_gradients(x, y)
  local layers = R.linear_layers(self.name, self.model)
  local ws = {}
  for i, l in ipairs(layers) do ws[i] = l.module.weight end
  local g = nn.grad(self.loss(self.model(x), y), ws)
  local out = {}
  for i, l in ipairs(layers) do out[l.name] = g[i] end
  return out
end

-- The rule's update of each Linear weight against the true gradient, in degrees. The
-- parameters' .grad are left as they were.
function Rule:angles(x, y)
  if not self.loss then R.fail(self.name, "angles need a loss (opts.loss)") end
  local layers = R.linear_layers(self.name, self.model)
  local saved = {}
  for _, p in ipairs(self.model:parameters()) do saved[p] = p.grad end
  self.model:zero_grad()
  self:gradients(x, y)
  local mine = {}
  for _, l in ipairs(layers) do mine[l.name] = l.module.weight.grad end
  local truth = self:true_gradients(x, y)
  for p, g in pairs(saved) do p.grad = g end
  local out = {}
  for _, l in ipairs(layers) do
    out[l.name] = mine[l.name] and R.angle(mine[l.name], truth[l.name]) or 90
  end
  return out
end

-- The rules, one file each; each file requires "nn.rules" (this table) and defines itself.
package.loaded["nn.rules"] = R
for _, file in ipairs({
  "continual_backprop",
  "forward_forward",
  "forward_gradient",
  "predictive_coding",
  "rtrl",
}) do
  require("nn.rules." .. file)
end

return R
