-- stdlib/nn/rules/backprop.lua: nn.rules.backprop, the reference every other rule is
-- measured against: the true gradient of the loss, by reverse-mode autodiff.
local nn = require "nn"
local R = require "nn.rules"

local Backprop = R.define("backprop")

function Backprop:init(model, opts)
  R.check_options(self, opts, {"loss", "optim", "lr"})
  R.loss_option(self, opts)
  R.make_optim(self, opts)
end

function Backprop:gradients(x, y)
  local loss = self.loss(self.model(x), y)
  loss:backward()
  return loss:item()
end

nn.document("Learning rules", {
  {"rules.backprop", R.backprop, "nn.rules.backprop(model [, {loss=nn.cross_entropy, optim, lr=1e-3}]) -> rule",
    "Backpropagation: each step descends the true gradient of loss (the reference for the other "
      .. "rules; its angles are 0). optim defaults to Adam at lr over the model's parameters. "
      .. "rule:step(x, y) -> loss, rule:predict(x), rule:angles(x, y); nn.fit(model, data, {rule = r})."},
})
