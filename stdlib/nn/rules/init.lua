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
local optim = require "nn.optim"
local options = require "nn.options"

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

-- An error naming the rule for an option it does not know (did you mean ...?).
function R.check_options(self, opts, known)
  options.check("nn.rules." .. self.name, opts, known)
end

-- The options every rule shares: self.loss (a function, nn.cross_entropy by default) and,
-- once the rule has added what it trains, self.optim (opts.optim, or Adam at opts.lr = 1e-3
-- over the model's parameters) by R.make_optim.
function R.loss_option(self, opts)
  local loss = opts.loss
  if loss == nil then loss = nn.cross_entropy end
  local mt = type(loss) == "table" and getmetatable(loss)
  if type(loss) ~= "function" and not (mt and mt.__call) then
    R.fail(self.name, "needs a loss function (opts.loss) to compute its error, got %s",
      tostring(loss))
  end
  self.loss = loss
end

function R.make_optim(self, opts, params)
  if opts.optim ~= nil and (type(opts.optim) ~= "table" or type(opts.optim.step) ~= "function") then
    R.fail(self.name, "opts.optim must be an optimizer (nn.optim.Adam(...)), got %s",
      tostring(opts.optim))
  end
  if opts.lr ~= nil and (type(opts.lr) ~= "number" or not (opts.lr >= 0)) then
    R.fail(self.name, "lr must be a number >= 0, got %s (%s)", type(opts.lr), tostring(opts.lr))
  end
  self.optim = opts.optim or optim.Adam(params or self.model, {lr = opts.lr or 1e-3})
end

-- fn() run with the global generator seeded by seed (then put back as it was), or as it is
-- when seed is nil: a rule's fixed random matrices are reproducible without moving the
-- stream the rest of the program draws from.
function R.seeded(name, seed, fn)
  if seed == nil then return fn() end
  seed = require("nn.options").whole(seed) or seed
  if math.type(seed) ~= "integer" then R.fail(name, "seed must be an integer, got %s", tostring(seed)) end
  local state = nn.get_rng_state()
  nn.manual_seed(seed)
  local ok, v = pcall(fn)
  nn.set_rng_state(state)
  if not ok then error(v, 0) end
  return v
end

-- A fixed random matrix (rows x cols) of the weight's dtype, uniform in +-1/sqrt(cols) as a
-- Linear layer's initial weights are.
function R.random_matrix(rows, cols, dtype)
  local bound = cols > 0 and 1 / math.sqrt(cols) or 0
  return nn.rand(rows, cols):mul(2 * bound):sub(bound):to(dtype)
end

-- A buffer of module m named name of shape {rows, cols}: the one m has when it is there (a
-- model loaded with its feedback keeps it), else a new one made by make(). Saved with the
-- model (state_dict, nn.save) and converted by m:to().
function R.feedback_buffer(m, name, rows, cols, make)
  local b = rawget(m, name)
  if nn.is_tensor(b) and b:dim() == 2 and b:size(1) == rows and b:size(2) == cols then return b end
  m[name] = m:buffer(make())
  return rawget(m, name)
end

-- body() with every Linear layer of layers computing through fn(module, x) instead of
-- nn.linear (the layer's _through); the layers compute as usual again afterwards, on an
-- error too.
function R.through(layers, fn, body)
  for _, l in ipairs(layers) do rawset(l.module, "_through", fn) end
  local ok, v = pcall(body)
  for _, l in ipairs(layers) do rawset(l.module, "_through", nil) end
  if not ok then error(v, 0) end
  return v
end

-- p.grad += g for each parameter and its gradient (p.grad = g when it has none)
function R.add_grads(params, grads)
  for i, p in ipairs(params) do
    local g = grads[i]
    if g then p.grad = p.grad and p.grad + g or g end
  end
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

-- The model's layers as blocks, for rules that treat each layer on its own: a Sequential
-- (nested ones are flattened) cut before each Linear. {prefix = the modules before the first
-- Linear, blocks = {{linear = m, mods = {m, f, ...}, params = {...}, width = n}, ...}}, where
-- a block's output (after its activation) is h_l, of width n (the Linear's out_features).
function R.blocks(name, model)
  if getmetatable(model) ~= nn.Sequential then
    R.fail(name, "needs an nn.Sequential model (its layers in order, each Linear followed by "
      .. "its activation), got %s", tostring(model))
  end
  local leaves = {}
  local function flatten(seq)
    for i = 1, #seq._children do
      local m = seq[i]
      if getmetatable(m) == nn.Sequential then flatten(m) else leaves[#leaves + 1] = m end
    end
  end
  flatten(model)
  local prefix, blocks = {}, {}
  for _, m in ipairs(leaves) do
    if getmetatable(m) == nn.Linear then
      blocks[#blocks + 1] = {linear = m, mods = {}, params = {}, width = m.out_features}
    end
    local b = blocks[#blocks]
    local list = b and b.mods or prefix
    list[#list + 1] = m
    if b then table.move(m:parameters(), 1, #m:parameters(), #b.params + 1, b.params) end
  end
  if #blocks == 0 then R.fail(name, "the model has no nn.Linear layer (it needs one to train)") end
  if #prefix > 0 then
    for _, m in ipairs(prefix) do
      if #m:parameters() > 0 then
        R.fail(name, "the model has trained layers before its first nn.Linear (%s)", tostring(m))
      end
    end
  end
  return {prefix = prefix, blocks = blocks}
end

-- For rules that run a model's layers one by one (R.blocks) rather than model(x): runs the
-- model's own forward hooks on (x, out) as model(x) would have, so that what watches whole
-- forwards (the live view's sparsity panel) sees one. Their results are ignored.
function R.forward_done(model, x, out)
  local hooks = rawget(model, "_forward_hooks")
  if not hooks then return end
  for _, h in ipairs({table.unpack(hooks)}) do h[1](model, x, out) end
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
  local params, saved = self.model:parameters(), {}
  for i, p in ipairs(params) do saved[i] = p.grad end
  self.model:zero_grad()
  self:gradients(x, y)
  local mine = {}
  for _, l in ipairs(layers) do mine[l.name] = l.module.weight.grad end
  local truth = self:true_gradients(x, y)
  for i, p in ipairs(params) do p.grad = saved[i] end
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
  "backprop",
  "feedback_alignment",
  "dfa",
  "pfa",
  "pepita",
}) do
  require("nn.rules." .. file)
end

return R
