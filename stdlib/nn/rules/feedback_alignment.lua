-- stdlib/nn/rules/feedback_alignment.lua: nn.rules.feedback_alignment (Lillicrap et al.,
-- "Random synaptic feedback weights support error backpropagation for deep learning").
--
-- The error goes backward through a fixed random matrix B_l of W_l's shape instead of W_l^T:
-- delta_{l-1} = (delta_l B_l) * f'(a_{l-1}), and each layer's update is the local outer
-- product delta_l^T h_{l-1}. Every Linear layer keeps its B as the buffer "feedback" (saved
-- with the model) and, during the rule's step, computes through nn.linear_fa, whose backward
-- is this rule (ops/feedback.c); the rest of the model (activations, other layers) is
-- differentiated as usual by the plain backward pass.
local nn = require "nn"
local R = require "nn.rules"

local FA = R.define("feedback_alignment")

local function through_fa(m, x)
  return nn.linear_fa(x, m.weight, m.bias, m.feedback)
end

function FA:init(model, opts)
  R.check_options(self, opts, {"loss", "optim", "lr", "seed"})
  self.layers = R.linear_layers(self.name, model)
  R.loss_option(self, opts)
  R.seeded(self.name, opts.seed, function()
    for _, l in ipairs(self.layers) do
      local m = l.module
      R.feedback_buffer(m, "feedback", m.out_features, m.in_features, function()
        return R.random_matrix(m.out_features, m.in_features, m.weight:dtype())
      end)
    end
  end)
  R.make_optim(self, opts)
end

function FA:gradients(x, y)
  return R.through(self.layers, through_fa, function()
    local loss = self.loss(self.model(x), y)
    loss:backward()
    return loss:item()
  end)
end

nn.document("Learning rules", {
  {"rules.feedback_alignment", R.feedback_alignment,
    "nn.rules.feedback_alignment(model [, {loss=nn.cross_entropy, optim, lr=1e-3, seed}]) -> rule",
    "Feedback alignment: the error flows backward through a fixed random matrix B of each Linear "
      .. "layer's weight shape instead of W^T (nn.linear_fa). B is the layer's buffer \"feedback\", "
      .. "drawn with seed (saved with the model; a model that has one keeps it)."},
})
