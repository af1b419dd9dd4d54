-- stdlib/nn/rules/pfa.lua: nn.rules.pfa, product feedback alignment (Li & Benna, "Deep
-- Learning without Weight Symmetry").
--
-- The error reaches a layer's input through a product of two matrices and an expanded
-- population of r = expansion * n_out units in between, never through W^T:
--   delta_in = ((delta_out B) R) * f'(a_in)   (batch-major),
-- B (n_out x r) fixed random with entries of variance 1/r (so that B B^T ~ I), and R (r x n_in)
-- learned by the same local outer-product form as W: dR = (delta_out B)^T x, the error of the
-- expanded units times the layer's input (dW = delta_out^T x). R starts at 0 and is trained
-- by the rule's optimizer with W; with weight decay (opts.feedback_decay, on R) it forgets
-- its start and tracks B^T W, so that B R ~ B B^T W ~ W: the feedback comes to approximate
-- backprop's without W ever being copied into it. Every Linear layer but the first (whose
-- input needs no error) computes through nn.linear_pfa; B and R are its buffers
-- "product_feedback" and "product_feedback_R" (saved with the model).
local nn = require "nn"
local R = require "nn.rules"

local PFA = R.define("pfa")

local function through_pfa(m, x)
  if not rawget(m, "product_feedback") then return nn.linear(x, m.weight, m.bias) end
  return nn.linear_pfa(x, m.weight, m.bias, m.product_feedback, m.product_feedback_R)
end

function PFA:init(model, opts)
  R.check_options(self, opts, {"loss", "optim", "lr", "seed", "expansion", "feedback_decay"})
  self.layers = R.linear_layers(self.name, model)
  R.loss_option(self, opts)
  local k = opts.expansion or 4
  if type(k) ~= "number" or k <= 0 then
    R.fail(self.name, "expansion must be a positive number, got %s", tostring(k))
  end
  local decay = opts.feedback_decay or 0
  if type(decay) ~= "number" or not (decay >= 0) then
    R.fail(self.name, "feedback_decay must be a number >= 0, got %s (%s)", type(decay),
      tostring(decay))
  end
  self.expansion, self.feedback_decay = k, decay
  self.feedback_params = {}
  R.seeded(self.name, opts.seed, function()
    for i = 2, #self.layers do
      local m = self.layers[i].module
      local r = math.max(1, math.floor(k * m.out_features + 0.5))
      local dt = m.weight:dtype()
      R.feedback_buffer(m, "product_feedback", m.out_features, r, function()
        return (nn.randn(m.out_features, r) / math.sqrt(r)):to(dt)
      end)
      local fr = R.feedback_buffer(m, "product_feedback_R", r, m.in_features, function()
        return nn.zeros(r, m.in_features):to(dt)
      end)
      fr:requires_grad_(true)
      self.feedback_params[#self.feedback_params + 1] = fr
    end
  end)
  local params = model:parameters()
  table.move(self.feedback_params, 1, #self.feedback_params, #params + 1, params)
  R.make_optim(self, opts, params)
end

function PFA:step(x, y)
  for _, p in ipairs(self.feedback_params) do p.grad = nil end
  return R.Rule.step(self, x, y)
end

function PFA:gradients(x, y)
  return R.through(self.layers, through_pfa, function()
    local loss = self.loss(self.model(x), y)
    loss:backward()
    if self.feedback_decay > 0 then
      for _, p in ipairs(self.feedback_params) do
        if p.grad then p.grad = p.grad + p:detach() * self.feedback_decay end
      end
    end
    return loss:item()
  end)
end

nn.document("Learning rules", {
  {"rules.pfa", R.pfa,
    "nn.rules.pfa(model [, {loss=nn.cross_entropy, optim, lr=1e-3, expansion=4, feedback_decay=0, seed}]) -> rule",
    "Product feedback alignment: the error reaches each layer's input through (g B) R, B "
      .. "(n_out x expansion*n_out) fixed random and R learned by the local rule dR = (g B)^T x "
      .. "(nn.linear_pfa), so that B R comes to approximate W without copying it. The rule's "
      .. "optimizer trains R too (rule.feedback_params); feedback_decay is R's weight decay."},
})
