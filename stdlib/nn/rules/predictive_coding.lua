-- stdlib/nn/rules/predictive_coding.lua: predictive coding as inference learning ("A
-- Theoretical Framework for Inference Learning", Alonso et al., 2022).
--
-- An MLP Linear (act Linear)* is read as layers of activities h_l predicted from below:
-- mu_l = W_l f(h_{l-1}) + b_l, h_0 = x. For a batch the energy is
--   E = sum_{l<L} |h_l - mu_l|^2 / 2 + loss(mu_L, y)
-- The hidden h_l start at the feedforward values, then `iters` steps of h_l -= gamma_l dE/dh_l
-- relax them over the layers' prediction errors, the output pulled toward the target by the
-- loss; then every layer learns locally from its own error and its own input:
--   dW_l = -(1/N) e_l f(h_{l-1})^T,  e_l = h_l - mu_l  (e_L = -dloss/dmu_L),
-- which the optimizer applies. The inference step of layer l is min(step, 1/(1 + s^2)) with s
-- the largest singular value of W_{l+1} (a few power iterations per batch, warm-started): the
-- curvature of E in h_l is at most 1 + s^2, so the relaxation stays stable as the optimizer
-- grows the weights (a fixed step of 0.1 diverges after a few epochs with Adam). The whole
-- inner loop of a batch is one call of the fused kernel nn._pc_step.
local nn = require "nn"
local R = require "nn.rules"
local options = require "nn.options"

local PC = R.define("predictive_coding")

local function fail(fmt, ...) R.fail("predictive_coding", fmt, ...) end

local function shape_str(t) return "{" .. table.concat(t:shape(), ",") .. "}" end

local ACTS = {[nn.ReLU] = "relu", [nn.Tanh] = "tanh"}

-- the Linear layers of the model and its one activation (checked: Linear (act Linear)*)
local function layers_of(model)
  local leaves = {}
  for _, m in model:named_modules() do
    if #m._children == 0 then leaves[#leaves + 1] = m end
  end
  local layers, act = {}, nil
  for i, m in ipairs(leaves) do
    local mt = getmetatable(m)
    if mt == nn.Linear then
      if i > 1 and getmetatable(leaves[i - 1]) == nn.Linear then
        fail("two nn.Linear in a row (layers %d and %d): put an activation between", #layers,
          #layers + 1)
      end
      layers[#layers + 1] = m
    elseif ACTS[mt] then
      if #layers == 0 then fail("the model must start with an nn.Linear, not %s", tostring(m)) end
      if act and act ~= ACTS[mt] then fail("the model mixes activations (%s and %s)", act, ACTS[mt]) end
      act = ACTS[mt]
    else
      fail("the model must be nn.Linear layers with nn.ReLU or nn.Tanh between, found %s",
        tostring(m))
    end
  end
  if #layers == 0 then fail("the model has no nn.Linear layer (it needs one to train)") end
  if getmetatable(leaves[#leaves]) ~= nn.Linear then
    fail("the model must end with an nn.Linear (its output goes to the loss)")
  end
  return layers, act or "identity"
end

function PC:init(model, opts)
  options.check("nn.rules.predictive_coding", opts, {
    "loss", "optim", "iters", "step", "power_iters"})
  self.layers, self.act = layers_of(model)
  self.loss = opts.loss or nn.cross_entropy
  if self.loss == nn.cross_entropy then
    self.loss_kind = "cross_entropy"
  elseif self.loss == nn.mse_loss then
    self.loss_kind = "mse"
  else
    fail("loss must be nn.cross_entropy or nn.mse_loss (the kernel needs its gradient)")
  end
  self.iters = opts.iters or 20
  self.iters = require("nn.options").whole(self.iters) or self.iters
  if math.type(self.iters) ~= "integer" or self.iters < 0 then
    fail("iters must be a non-negative integer, got %s", tostring(opts.iters))
  end
  self.max_step = opts.step or 0.1
  if type(self.max_step) ~= "number" or self.max_step <= 0 then
    fail("step must be a positive number, got %s", tostring(opts.step))
  end
  self.power_iters = opts.power_iters or 2
  self.u = {}
  for l, m in ipairs(self.layers) do
    local u = nn.randn(m.in_features):double()
    self.u[l] = u / (u * u):sum():sqrt()
  end
  self.optim = opts.optim or nn.optim.Adam(model, {lr = 1e-3})
end

-- the inference step of every hidden layer, capped by the curvature 1 + sigma_max(W_{l+1})^2
function PC:steps()
  local gamma = {}
  for l = 1, #self.layers - 1 do
    local s = nn._spectral_norm(self.layers[l + 1].weight, self.u[l + 1], self.power_iters)
    gamma[l] = math.min(self.max_step, 1 / (1 + s * s))
  end
  return gamma
end

function PC:gradients(x, y)
  local first, last = self.layers[1], self.layers[#self.layers]
  if not nn.is_tensor(x) or x:dim() ~= 2 or x:size(2) ~= first.in_features then
    fail("x must be (batch, %d), got %s", first.in_features,
      nn.is_tensor(x) and shape_str(x) or type(x))
  end
  if self.loss_kind == "mse" then
    if not nn.is_tensor(y) or y:dim() ~= 2 or y:size(2) ~= last.out_features then
      fail("y must be (batch, %d) for nn.mse_loss, got %s", last.out_features,
        nn.is_tensor(y) and shape_str(y) or type(y))
    end
    y = y:to(x:dtype()):contiguous()
  end
  local ws, bs, dws, dbs = {}, {}, {}, {}
  for l, m in ipairs(self.layers) do
    ws[l], bs[l] = m.weight, m.bias or false
    dws[l] = nn.empty(m.weight:shape(), m.weight:dtype())
    dbs[l] = m.bias and nn.empty(m.bias:shape(), m.bias:dtype()) or false
  end
  local opts = {iters = self.iters, gamma = self:steps(), act = self.act, loss = self.loss_kind}
  local loss = nn._pc_step(ws, bs, x:contiguous(), y:contiguous(), opts, dws, dbs)
  for l, m in ipairs(self.layers) do
    m.weight.grad = dws[l]
    if m.bias then m.bias.grad = dbs[l] end
  end
  return loss
end

nn.document("Learning rules", {
  {"rules.predictive_coding", R.predictive_coding,
    "nn.rules.predictive_coding(model, {loss=nn.cross_entropy, optim, iters=20, step=0.1, "
      .. "power_iters=2})",
    "Inference learning for an MLP Linear (ReLU|Tanh Linear)*: iters relaxation steps of the "
      .. "hidden activities over the layers' prediction errors (output pulled by the loss), "
      .. "then local updates e_l f(h_{l-1})^T; step capped at 1/(1 + sigma_max(W)^2)."},
  {"rules.predictive_coding:steps", PC.steps, "rule:steps() -> {gamma_1, ...}",
    "The inference step of each hidden layer for the current weights."},
})
