-- stdlib/nn/rules/continual_backprop.lua: continual backpropagation ("Loss of Plasticity in
-- Deep Continual Learning", Dohare et al., 2024).
--
-- Backprop with any optimizer, plus a slow turnover of hidden units. After every step each
-- hidden unit i (an output of a Linear layer that feeds the next Linear) moves its utility
--   u_i <- decay u_i + (1 - decay) mean_batch|h_i| sum_k |W_next[k, i]|
-- and ages by one. Units older than `maturity` are eligible; each layer accumulates
-- replacement_rate x (its number of eligible units), and every time that reaches 1 the
-- eligible unit of lowest utility is re-initialized: fresh incoming weights (the Linear
-- default init, uniform in +-1/sqrt(in)), zero bias, zero outgoing weights (so that the
-- network's function does not change), utility and age 0, and its entries in the
-- optimizer's state (Adam's moments, SGD's momentum) zeroed. The bookkeeping is a few tensor
-- ops per layer and step; Lua loops only over the (rare) replacements.
local nn = require "nn"
local R = require "nn.rules"
local options = require "nn.options"

local CBP = R.define("continual_backprop")

local function fail(fmt, ...) R.fail("continual_backprop", fmt, ...) end

function CBP:init(model, opts)
  options.check("nn.rules.continual_backprop", opts, {
    "loss", "optim", "replacement_rate", "decay", "maturity"})
  local layers = R.linear_layers("continual_backprop", model)
  if #layers < 2 then fail("the model needs two nn.Linear layers or more (hidden units to renew)") end
  self.layers = {}
  for i, l in ipairs(layers) do self.layers[i] = l.module end
  self.loss = opts.loss or nn.cross_entropy
  self.optim = opts.optim or nn.optim.Adam(model, {lr = 1e-3})
  self.replacement_rate = opts.replacement_rate or 1e-4
  self.decay = opts.decay or 0.99
  self.maturity = opts.maturity or 100
  if not (self.replacement_rate >= 0 and self.decay >= 0 and self.decay < 1 and self.maturity >= 0) then
    fail("replacement_rate >= 0, 0 <= decay < 1 and maturity >= 0 are required (got %s, %s, %s)",
      tostring(self.replacement_rate), tostring(self.decay), tostring(self.maturity))
  end
  self.utility, self.age, self.acc, self.h, self.replaced = {}, {}, {}, {}, 0
  for l = 1, #self.layers - 1 do
    local n = self.layers[l].out_features
    if self.layers[l + 1].in_features ~= n then
      fail("layer %d has %d outputs but layer %d %d inputs", l, n, l + 1, self.layers[l + 1].in_features)
    end
    self.utility[l] = nn.zeros(n):double()
    self.age[l] = nn.zeros(n):double()
    self.acc[l] = 0
    -- the hidden activities h_l are the next Linear's input
    self.layers[l + 1]:register_forward_hook(function(_, input) self.h[l] = input end)
  end
end

function CBP:gradients(x, y)
  local loss = self.loss(self.model(x), y)
  loss:backward()
  return loss:item()
end

function CBP:step(x, y)
  local loss = R.Rule.step(self, x, y)
  nn.no_grad(function() self:renew() end)
  return loss
end

-- zeroes the slice of every optimizer state tensor of parameter p given by f(tensor) -> view
local function reset_state(optim, p, f)
  if not (optim and optim.params and optim.state) then return end
  for i, q in ipairs(optim.params) do
    if q == p and optim.state[i] then
      for _, v in pairs(optim.state[i]) do
        if nn.is_tensor(v) and v:dim() == p:dim() then f(v):fill_(0) end
      end
    end
  end
end

function CBP:reinit(l, i)
  local win, wout = self.layers[l], self.layers[l + 1]
  local bound = 1 / math.sqrt(win.in_features)
  local w = win.weight
  w:narrow(1, i, 1):copy_((nn.rand(1, win.in_features) * 2 - 1) * bound)
  reset_state(self.optim, w, function(t) return t:narrow(1, i, 1) end)
  if win.bias then
    win.bias:narrow(1, i, 1):fill_(0)
    reset_state(self.optim, win.bias, function(t) return t:narrow(1, i, 1) end)
  end
  wout.weight:narrow(2, i, 1):fill_(0)
  reset_state(self.optim, wout.weight, function(t) return t:narrow(2, i, 1) end)
  self.utility[l]:narrow(1, i, 1):fill_(0)
  self.age[l]:narrow(1, i, 1):fill_(0)
  self.replaced = self.replaced + 1
end

-- utilities and ages after a step, then the replacements that are due
function CBP:renew()
  for l = 1, #self.layers - 1 do
    local h = self.h[l]
    if h then
      local contrib = h:abs():mean(1):double() * self.layers[l + 1].weight:abs():sum(1):double()
      self.utility[l]:mul_(self.decay):add_(contrib:view(-1) * (1 - self.decay))
    end
    self.age[l]:add_(1)
    local eligible = self.age[l]:gt(self.maturity):double()
    self.acc[l] = self.acc[l] + self.replacement_rate * eligible:sum():item()
    while self.acc[l] >= 1 and eligible:sum():item() > 0 do
      self.acc[l] = self.acc[l] - 1
      local i = (self.utility[l] + (1 - eligible) * 1e300):argmin():item()
      self:reinit(l, i)
      eligible:narrow(1, i, 1):fill_(0)
    end
    if eligible:sum():item() == 0 then self.acc[l] = math.min(self.acc[l], 1) end
  end
end

nn.document("Learning rules", {
  {"rules.continual_backprop", R.continual_backprop,
    "nn.rules.continual_backprop(model, {loss=nn.cross_entropy, optim, replacement_rate=1e-4, "
      .. "decay=0.99, maturity=100})",
    "Backprop plus utility-tracked renewal of hidden units: the mature unit of lowest "
      .. "running |h| x sum|outgoing w| gets fresh inputs, zero outputs and zeroed optimizer "
      .. "state, at replacement_rate per eligible unit and step; rule.replaced counts them."},
})
