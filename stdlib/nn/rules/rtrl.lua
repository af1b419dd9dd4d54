-- stdlib/nn/rules/rtrl.lua: real-time recurrent learning (Williams & Zipser, 1989).
--
-- For a one-layer RNN h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), RTRL carries the exact
-- sensitivities S_t = dh_t/dθ forward in time instead of unrolling the graph backward:
--   S_t = f'(a_t) ⊙ (W_hh S_{t-1} + ∂a_t/∂θ),   dL_t/dθ = (dL_t/dh_t) S_t,
-- where ∂a_t/∂W_ih[i,j] puts x_t[j] in row i (and h_{t-1}[j] for W_hh, 1 for the biases). The
-- sensitivities of a batch are (batch, hidden, |θ|) tensors updated by one batched matmul per
-- parameter and step: O(H^4) work per step, for small RNNs, and no graph through time. With
-- online = true (the default) the optimizer steps after every time step that has a loss, as
-- RTRL is meant to run; rule:gradients(x, y) sums the gradients of a whole sequence without
-- updating, and equals BPTT's.
local nn = require "nn"
local R = require "nn.rules"

local RTRL = R.define("rtrl")

local PARAMS = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}

local function fail(fmt, ...) R.fail("rtrl", fmt, ...) end

local function shape_str(t) return "{" .. table.concat(t:shape(), ",") .. "}" end

function RTRL:init(rnn, opts)
  for _, k in ipairs({"weight_ih_l0", "weight_hh_l0"}) do
    if not nn.is_tensor(rawget(rnn, k) or rnn[k]) then
      fail("expected a one-layer nn.RNN, got a model without %s", k)
    end
  end
  if (rnn.num_layers or 1) ~= 1 then fail("RTRL trains one layer, the RNN has %d", rnn.num_layers) end
  self.nonlinearity = rnn.nonlinearity or "tanh"
  if self.nonlinearity ~= "tanh" and self.nonlinearity ~= "relu" then
    fail("nonlinearity must be tanh or relu, got %s", tostring(self.nonlinearity))
  end
  self.loss = opts.loss or nn.mse_loss
  if type(self.loss) ~= "function" and not (type(self.loss) == "table" and getmetatable(self.loss)) then
    fail("loss must be a function, got %s", type(self.loss))
  end
  self.readout = opts.readout
  if self.readout ~= nil and not nn.Module.is_module(self.readout) then
    fail("readout must be a module mapping h_t to predictions, got %s", type(self.readout))
  end
  local params = {}
  for _, p in ipairs(rnn:parameters()) do params[#params + 1] = p end
  if self.readout then
    for _, p in ipairs(self.readout:parameters()) do params[#params + 1] = p end
  end
  self.params = params
  self.optim = opts.optim or nn.optim.Adam(params, {lr = 1e-3})
  self.online = opts.online ~= false
end

-- the targets of step t: y (batch, time, ...) has one per step; any other y is the target of
-- the last step alone
local function target(y, t, T)
  if y:dim() >= 2 and y:size(2) == T and y:dim() >= 3 then return y:select(2, t) end
  if t == T then return y end
  return nil
end

-- what the sequence pass needs of the RNN's parameters
local function weights(rnn)
  local w = {}
  for _, k in ipairs(PARAMS) do w[k] = rnn[k] end
  return w
end

-- One pass over the sequence. on_grads(grads) receives the gradients of each step's loss, as
-- {parameter = gradient}; returns the summed loss.
function RTRL:run(x, y, on_grads)
  if not nn.is_tensor(x) or x:dim() ~= 3 then
    fail("x must be (batch, time, features), got %s", nn.is_tensor(x) and shape_str(x) or type(x))
  end
  local w = weights(self.model)
  local B, T, I = x:size(1), x:size(2), x:size(3)
  local H = w.weight_hh_l0:size(1)
  if I ~= w.weight_ih_l0:size(2) then
    fail("input has %d features, the RNN expects %d (input shape %s)", I, w.weight_ih_l0:size(2),
      shape_str(x))
  end
  if T == 0 then fail("the sequence is empty (input shape %s)", shape_str(x)) end
  local dt = w.weight_hh_l0:dtype()
  local eye = nn.eye(H):to(dt)
  local s_ih = nn.zeros({B, H, H * I}, dt)
  local s_hh = nn.zeros({B, H, H * H}, dt)
  local s_b = nn.zeros({B, H, H}, dt)
  local h = nn.zeros({B, H}, dt)
  local total = 0
  for t = 1, T do
    local xt = x:select(2, t)
    local hn, d = nn.no_grad(function()
      local a = nn.linear(xt, w.weight_ih_l0, w.bias_ih_l0) + nn.linear(h, w.weight_hh_l0, w.bias_hh_l0)
      local hn = self.nonlinearity == "tanh" and a:tanh() or a:relu()
      local d = self.nonlinearity == "tanh" and 1 - hn * hn or a:gt(0):to(dt)
      d = d:unsqueeze(3)
      -- S_t = f'(a_t) (W_hh S_{t-1} + ∂a_t/∂θ); ∂a/∂W[i,j] = δ_ki v_j is eye ⊗ v
      local whh = w.weight_hh_l0
      local function advance(s, v)
        local direct = v and (eye:view(1, H, H, 1) * v:view(B, 1, 1, v:size(2))):view(B, H, -1) or eye
        return d * (nn.matmul(whh, s) + direct)
      end
      s_ih, s_hh, s_b = advance(s_ih, xt), advance(s_hh, h), advance(s_b, nil)
      return hn, d
    end)
    local yt = target(y, t, T)
    if yt then
      local hl = hn:detach():requires_grad_()
      local pred = self.readout and self.readout(hl) or hl
      local loss = self.loss(pred, yt)
      local inputs = {hl}
      if self.readout then
        for _, p in ipairs(self.readout:parameters()) do inputs[#inputs + 1] = p end
      end
      local g = nn.grad(loss, inputs)
      local e = g[1]:unsqueeze(2) -- (B, 1, H)
      local grads = nn.no_grad(function()
        local gb = nn.matmul(e, s_b):sum(1):view(H)
        return {
          [w.weight_ih_l0] = nn.matmul(e, s_ih):sum(1):view(H, I),
          [w.weight_hh_l0] = nn.matmul(e, s_hh):sum(1):view(H, H),
          [w.bias_ih_l0 or false] = gb, [w.bias_hh_l0 or false] = gb,
        }
      end)
      grads[false] = nil
      if self.readout then
        for k, p in ipairs(self.readout:parameters()) do grads[p] = g[k + 1] end
      end
      on_grads(grads)
      total = total + loss:item()
    end
    h = hn
  end
  return total
end

local function accumulate(grads)
  nn.no_grad(function()
    for p, g in pairs(grads) do p.grad = p.grad and p.grad + g or g:clone() end
  end)
end

-- the summed gradient of the whole sequence's losses, nothing updated: BPTT's gradient
function RTRL:gradients(x, y)
  return self:run(x, y, accumulate)
end

function RTRL:step(x, y)
  if not self.online then return R.Rule.step(self, x, y) end
  local opt = self.optim
  opt:zero_grad()
  return self:run(x, y, function(grads)
    accumulate(grads)
    opt:step()
    opt:zero_grad()
  end)
end

function RTRL:predict()
  fail("an RNN trained by RTRL predicts through the model itself: call the model")
end

-- RTRL's gradient against BPTT's (autograd through the model's fused sequence op): degrees
-- per parameter name of the RNN
function RTRL:angles(x, y)
  local saved = {}
  for _, p in ipairs(self.params) do saved[p] = p.grad; p.grad = nil end
  self:gradients(x, y)
  local mine = {}
  for _, p in ipairs(self.params) do mine[p] = p.grad end
  for p, g in pairs(saved) do p.grad = g end
  for _, p in ipairs(self.params) do if not saved[p] then p.grad = nil end end
  local truth = self:bptt_gradients(x, y)
  local out = {}
  for _, k in ipairs(PARAMS) do
    local p = self.model[k]
    if p and mine[p] then out[k] = R.angle(mine[p], truth[p]) end
  end
  return out
end

-- BPTT's gradient of the same losses: the model's own forward and one backward
function RTRL:bptt_gradients(x, y)
  local out = self.model(x)
  local T = x:size(2)
  local loss
  for t = 1, T do
    local yt = target(y, t, T)
    if yt then
      local ht = out:select(2, t)
      local l = self.loss(self.readout and self.readout(ht) or ht, yt)
      loss = loss and loss + l or l
    end
  end
  local ps = weights(self.model)
  local list = {}
  for _, k in ipairs(PARAMS) do if ps[k] then list[#list + 1] = ps[k] end end
  local g = nn.grad(loss, list)
  local truth = {}
  for i, p in ipairs(list) do truth[p] = g[i] end
  return truth
end

nn.document("Learning rules", {
  {"rules.rtrl", R.rtrl, "nn.rules.rtrl(rnn, {loss=nn.mse_loss, optim, readout, online=true})",
    "Real-time recurrent learning for a one-layer nn.RNN: exact sensitivities carried forward, "
      .. "updates at every step, no BPTT; y (batch, time, ...) gives a loss per step."},
})
