-- stdlib/nn/loss.lua: loss modules, thin wrappers of the loss functions of nn.
--
-- nn.CrossEntropyLoss{label_smoothing = 0.1} holds the options; loss(input, target) calls
-- nn.cross_entropy(input, target, options). The functions themselves are in C.
local nn = require "nn"
local Module = require "nn.module"

local L = {}

-- class name = function name
local losses = {
  CrossEntropyLoss = "cross_entropy", NLLLoss = "nll_loss", MSELoss = "mse_loss",
  L1Loss = "l1_loss", BCEWithLogitsLoss = "bce_with_logits",
}

local function loss_class(name, fname)
  local cls = Module:extend(name)
  function cls:init(opts)
    self.opts = opts or {}
  end
  function cls:forward(input, target)
    return nn[fname](input, target, self.opts)
  end
  function cls:extra_repr()
    local parts = {}
    for k, v in pairs(self.opts) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(parts)
    return table.concat(parts, ", ")
  end
  return cls
end

local names = {}
for name, fname in pairs(losses) do
  L[name] = loss_class(name, fname)
  names[#names + 1] = name
end
table.sort(names)

local docs = {}
for _, name in ipairs(names) do
  docs[#docs + 1] = {name, L[name], "nn." .. name .. "([opts])",
    "loss(input, target) = nn." .. losses[name] .. "(input, target, opts)."}
end
nn.document("Losses", docs)

return L
