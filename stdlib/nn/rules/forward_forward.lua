-- stdlib/nn/rules/forward_forward.lua: the Forward-Forward algorithm (Hinton, 2022) and
-- Collaborative Forward-Forward (Lorberbom et al., 2023).
--
-- Every Linear+ReLU layer learns on its own: its goodness G = mean(y^2) (or sum, with
-- goodness = "sum") should be above the threshold theta for positive data (an image with its
-- right label written one-hot in its first pixels) and below it for negative data (the same
-- image with a wrong label), through the logistic loss softplus(-(G - theta)) resp.
-- softplus(G - theta). Each layer's input is scaled to unit RMS first, so that only the
-- direction of the layer below passes on (unit RMS rather than unit length: at unit length
-- the activations of a wide layer are too small to learn). Nothing crosses layers backward.
-- Collaborative FF adds the other layers' goodness (as constants) inside each layer's logit:
-- sigma(G_l + sum_{k~=l} G_k - theta). A prediction tries every label and picks the one of
-- the largest goodness summed over the layers (from the second on, as Hinton does, when there
-- are three or more; opts.first_scored says otherwise). The fused kernel nn._ff_layer does one layer's forward, goodness, loss and
-- gradient in one call.
local nn = require "nn"
local R = require "nn.rules"
local options = require "nn.options"

local FF = R.define("forward_forward")

local function fail(fmt, ...) R.fail("forward_forward", fmt, ...) end

local function shape_str(t) return "{" .. table.concat(t:shape(), ",") .. "}" end

-- the model as a list of Linear layers, each followed by a ReLU
local function layers_of(model)
  local leaves = {}
  for _, m in model:named_modules() do
    if #m._children == 0 then leaves[#leaves + 1] = m end
  end
  local out = {}
  for i, m in ipairs(leaves) do
    local mt = getmetatable(m)
    if mt == nn.Linear then
      if getmetatable(leaves[i + 1]) ~= nn.ReLU then
        fail("every nn.Linear must be followed by an nn.ReLU (layer %d is not)", #out + 1)
      end
      out[#out + 1] = m
    elseif mt ~= nn.ReLU then
      if #out == 0 then
        fail("the model's input must be a flat vector: its first layer is %s, expected nn.Linear",
          tostring(m))
      end
      fail("the model must be nn.Linear and nn.ReLU layers only, found %s", tostring(m))
    end
  end
  if #out == 0 then fail("the model has no nn.Linear layer (it needs one to train)") end
  return out
end

function FF:init(model, opts)
  options.check("nn.rules.forward_forward", opts, {
    "optim", "threshold", "goodness", "classes", "label_value", "first_scored", "collaborative"})
  self.layers = layers_of(model)
  self.threshold = opts.threshold or 2
  if type(self.threshold) ~= "number" then
    fail("threshold must be a number, got %s (%s)", type(self.threshold), tostring(self.threshold))
  end
  self.goodness = opts.goodness or "mean"
  if self.goodness ~= "mean" and self.goodness ~= "sum" then
    fail("goodness must be \"mean\" or \"sum\", got %s", tostring(self.goodness))
  end
  self.classes = options.whole(opts.classes or 10) or opts.classes
  if math.type(self.classes) ~= "integer" or self.classes < 2 then
    fail("classes must be an integer of at least 2, got %s", tostring(self.classes))
  end
  if self.classes > self.layers[1].in_features then
    fail("%d classes do not fit in the %d inputs of the first layer", self.classes,
      self.layers[1].in_features)
  end
  self.label_value = opts.label_value or 1
  self.collaborative = opts.collaborative == true
  -- Hinton skips the first layer's goodness; with two layers that would leave one, and on
  -- Fashion-MNIST (784-500-500, validation split) both layers predict better (86% vs 82%)
  self.first_scored = opts.first_scored or (#self.layers > 2 and 2 or 1)
  self.optim = opts.optim or nn.optim.Adam(model, {lr = 1e-3})
end

function FF:check_input(x)
  local nin = self.layers[1].in_features
  if not nn.is_tensor(x) or x:dim() ~= 2 or x:size(2) ~= nin then
    fail("x must be (batch, %d), a flat vector per sample, got %s", nin,
      nn.is_tensor(x) and shape_str(x) or type(x))
  end
end

-- x with the labels y (i64, 1..classes) written one-hot in its first pixels
function FF:overlay(x, y)
  local out = x:clone()
  out:narrow(2, 1, self.classes):copy_(nn.one_hot(y, self.classes):to(x:dtype()) * self.label_value)
  return out
end

-- one layer through the fused kernel: y, goodness, loss (and gradients when dw is given)
local function layer(self, l, h, off, npos, dw, db)
  local m = self.layers[l]
  local y = nn.empty({h:size(1), m.out_features}, h:dtype())
  local g = nn.empty({h:size(1)}, h:dtype())
  local k = {theta = self.threshold, npos = npos, mean = self.goodness == "mean"}
  local loss = nn._ff_layer(h, m.weight, m.bias, off, k, y, g, dw, db)
  return y, g, loss
end

-- every layer's output and goodness, without gradients
function FF:forward_all(h)
  local ys, gs = {}, {}
  for l = 1, #self.layers do
    ys[l], gs[l] = layer(self, l, h, nil, 0)
    h = ys[l]
  end
  return ys, gs
end

function FF:gradients(x, y)
  self:check_input(x)
  local n, C = x:size(1), self.classes
  if not nn.is_tensor(y) or y:dtype() ~= "i64" or y:dim() ~= 1 or y:size(1) ~= n then
    fail("y must be %d class labels (an i64 tensor of shape {%d}), got %s", n, n,
      nn.is_tensor(y) and y:dtype() .. " " .. shape_str(y) or type(y))
  end
  local lo, hi = y:min():item(), y:max():item()
  if lo < 1 or hi > C then
    fail("label %d is out of range for %d classes", lo < 1 and lo or hi, C)
  end
  local s = y + nn.randint(1, C - 1, {n})
  local wrong = s - s:gt(C):to("i64") * C
  local h = nn.cat({self:overlay(x, y), self:overlay(x, wrong)}, 1):contiguous()
  local ys, offs
  if self.collaborative then
    local gs
    ys, gs = self:forward_all(h)
    local total = gs[1]
    for l = 2, #gs do total = total + gs[l] end
    offs = {}
    for l = 1, #gs do offs[l] = (total - gs[l]):contiguous() end
  end
  local loss = 0
  for l, m in ipairs(self.layers) do
    local dw = nn.empty(m.weight:shape(), m.weight:dtype())
    local db = m.bias and nn.empty(m.bias:shape(), m.bias:dtype()) or nil
    local out, _, lloss = layer(self, l, h, offs and offs[l], n, dw, db)
    m.weight.grad, loss = dw, loss + lloss
    if m.bias then m.bias.grad = db end
    h = ys and ys[l] or out
  end
  return loss / #self.layers
end

-- The first layer's outputs for every label, sharing one matrix product: with the label
-- pixels zeroed (x0), x0 and every overlay have the same RMS (the one-hot adds 1 to the sum
-- of squares), so xn_c W^T = (x0 W^T + W[:, c]) / rms.
function FF:first_layer_all_labels(x)
  local m, C = self.layers[1], self.classes
  return nn.no_grad(function()
    local x0 = x:clone()
    x0:narrow(2, 1, C):fill_(0)
    local lv = self.label_value
    local inv = 1 / (((x0 * x0):sum(2, true) + lv * lv) / x:size(2)):sqrt():add(1e-6)
    local base = nn.linear(x0, m.weight) * inv
    if m.bias then base = base + m.bias end
    local out = {}
    for c = 1, C do
      out[c] = (base + m.weight:narrow(2, c, 1):t() * (inv * lv)):relu():contiguous()
    end
    return out
  end)
end

-- {batch, classes}: the goodness of each label summed over the scored layers
function FF:scores(x)
  self:check_input(x)
  local cols = {}
  local first = self:first_layer_all_labels(x)
  local mean = self.goodness == "mean"
  for c = 1, self.classes do
    local h, s = first[c], nil
    if self.first_scored <= 1 then s = (h * h):sum(2):view(-1) / (mean and h:size(2) or 1) end
    for l = 2, #self.layers do
      local g
      h, g = layer(self, l, h, nil, 0)
      if l >= self.first_scored then s = s and s + g or g end
    end
    cols[c] = s
  end
  return nn.stack(cols, 2)
end

function FF:predict(x)
  return self:scores(x):argmax(2)
end

-- There is no global loss whose gradient the layers' updates could be compared with: no angles.
function FF:angles()
  return {}, "nn.rules.forward_forward: no angles, each layer descends its own goodness loss "
    .. "and there is no global loss to compare with"
end

nn.document("Learning rules", {
  {"rules.forward_forward", R.forward_forward,
    "nn.rules.forward_forward(model, {optim, threshold=2, goodness=\"mean\", classes=10, "
      .. "label_value=1, first_scored, collaborative=false})",
    "Forward-Forward for a stack of Linear+ReLU layers: per-layer goodness above threshold for "
      .. "images with their label in the first pixels, below for wrong labels; rule:predict(x) "
      .. "picks the label of largest goodness (layers first_scored.., 2 with 3+ layers, else 1)."},
  {"rules.forward_forward:scores", FF.scores, "rule:scores(x) -> tensor (batch, classes)",
    "The goodness of each label summed over the scored layers (what predict takes the argmax of)."},
})
