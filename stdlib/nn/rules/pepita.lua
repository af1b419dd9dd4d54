-- stdlib/nn/rules/pepita.lua: nn.rules.pepita (Dellaferrera & Kreiman, "Error-driven Input
-- Modulation: Solving the Credit Assignment Problem without a Backward Pass"; analysed in
-- Srinivasan et al., "Forward Learning with Top-Down Feedback").
--
-- Two forward passes and no backward pass. Pass 1 gives the hidden activities h_l and the
-- output error e = n dL/dy^ (softmax(y^) - onehot(y) for the cross-entropy); pass 2 runs on the input modulated by the error,
-- x_mod = x + e F^T, with F (n_in x n_out) fixed, uniform in +-F_scale*sqrt(6/n_in), giving
-- h_l^mod and e_mod. The updates (batch means, the direction to descend) are
--   dW_1 = (h_1 - h_1^mod)^T x_mod,  dW_l = (h_l - h_l^mod)^T h_{l-1}^mod  (hidden layers),
--   dW_L = e_mod^T h_{L-1}^mod  (the last layer),
-- and for the biases the batch means of (h_l - h_l^mod) and e_mod. F is the first Linear's
-- buffer "top_down_feedback" (saved with the model).
local nn = require "nn"
local R = require "nn.rules"

local PEPITA = R.define("pepita")

function PEPITA:init(model, opts)
  R.check_options(self, opts, {"loss", "optim", "lr", "seed", "F_scale"})
  local s = R.blocks(self.name, model)
  if #s.prefix > 0 then R.fail(self.name, "the model must start with an nn.Linear (its input is modulated)") end
  self.blocks = s.blocks
  R.loss_option(self, opts)
  local first, nout = self.blocks[1].linear, self.blocks[#self.blocks].width
  local scale = opts.F_scale or 0.05
  if type(scale) ~= "number" then R.fail(self.name, "F_scale must be a number, got %s", tostring(scale)) end
  local nin = first.in_features
  R.seeded(self.name, opts.seed, function()
    R.feedback_buffer(first, "top_down_feedback", nin, nout, function()
      local bound = scale * math.sqrt(6 / nin)
      return (nn.rand(nin, nout) * (2 * bound) - bound):to(first.weight:dtype())
    end)
  end)
  R.make_optim(self, opts)
end

-- the blocks' outputs on x
local function activities(model, blocks, x)
  local hs, h = {}, x
  for l, b in ipairs(blocks) do
    for _, m in ipairs(b.mods) do h = m(h) end
    hs[l] = h
  end
  R.forward_done(model, x, h)
  return hs
end

-- the loss at the output out and the error per example, e = n dL/dout (softmax(out) -
-- onehot(y) for the mean cross-entropy)
function PEPITA:output_error(out, y, n)
  local _ <close> = nn.enable_grad()
  local o = out:detach():requires_grad_(true)
  local loss = self.loss(o, y)
  return loss:item(), nn.grad(loss, {o})[1] * n
end

local function set(p, g)
  if p then p.grad = p.grad and p.grad + g or g end
end

function PEPITA:gradients(x, y)
  local blocks, L = self.blocks, #self.blocks
  local n = x:size(1)
  local hs = nn.no_grad(function() return activities(self.model, blocks, x) end)
  local loss, e = self:output_error(hs[L], y, n)
  local F = rawget(blocks[1].linear, "top_down_feedback")
  local _ <close> = nn.no_grad()
  local xmod = x + e:mm(F:t())
  local hm = activities(self.model, blocks, xmod)
  local _, emod = self:output_error(hm[L], y, n)
  for l = 1, L do
    local m, input = blocks[l].linear, l == 1 and xmod or hm[l - 1]
    local d = l < L and hs[l] - hm[l] or emod
    set(m.weight, d:t():mm(input) / n)
    set(m.bias, d:mean(1))
  end
  return loss
end

nn.document("Learning rules", {
  {"rules.pepita", R.pepita,
    "nn.rules.pepita(model [, {loss=nn.cross_entropy, optim, lr=1e-3, F_scale=0.05, seed}]) -> rule",
    "PEPITA: two forward passes, the second on x + e F^T (F fixed, uniform in "
      .. "+-F_scale*sqrt(6/n_in)); hidden layers update by (h - h_mod)^T h_mod of the layer "
      .. "below, the last by e_mod^T h_mod. No backward pass. model: an nn.Sequential of Linear "
      .. "layers and their activations."},
})
