-- stdlib/nn/rules/dfa.lua: nn.rules.dfa, direct feedback alignment (Nokland, "Direct
-- Feedback Alignment Provides Learning in Deep Neural Networks").
--
-- The output error e = dL/dy^ goes straight to every hidden layer through a fixed random
-- B_l (n_l x n_out): delta_l = (e B_l^T) * f'(a_l) (batch-major), and each layer's update is
-- the local delta_l^T h_{l-1}; the last layer gets its true gradient. The forward runs each
-- block (a Linear and its activation) on its input detached, so that one short backward
-- pass per block reaches only its own parameters: no backward matmul through the hidden
-- layers. B_l is the hidden Linear's buffer "direct_feedback" (saved with the model).
local nn = require "nn"
local R = require "nn.rules"

local DFA = R.define("dfa")

function DFA:init(model, opts)
  R.check_options(self, opts, {"loss", "optim", "lr", "seed"})
  local s = R.blocks(self.name, model)
  self.prefix, self.blocks = s.prefix, s.blocks
  R.loss_option(self, opts)
  local nout = self.blocks[#self.blocks].width
  R.seeded(self.name, opts.seed, function()
    for l = 1, #self.blocks - 1 do
      local b = self.blocks[l]
      b.feedback = R.feedback_buffer(b.linear, "direct_feedback", b.width, nout, function()
        return R.random_matrix(b.width, nout, b.linear.weight:dtype())
      end)
    end
  end)
  self.hidden_params = {}
  for l = 1, #self.blocks - 1 do
    local ps = self.blocks[l].params
    table.move(ps, 1, #ps, #self.hidden_params + 1, self.hidden_params)
  end
  R.make_optim(self, opts)
end

function DFA:gradients(x, y)
  local h = x
  for _, m in ipairs(self.prefix) do h = m(h) end
  local outs, nb = {}, #self.blocks
  for l, b in ipairs(self.blocks) do
    h = h:detach()
    for _, m in ipairs(b.mods) do h = m(h) end
    outs[l] = h
  end
  R.forward_done(self.model, x, outs[nb])
  local loss = self.loss(outs[nb], y)
  local last = self.blocks[nb]
  local g = nn.grad(loss, {outs[nb], table.unpack(last.params)})
  local e = g[1]
  R.add_grads(last.params, {table.unpack(g, 2)})
  if nb > 1 then
    local deltas = {}
    for l = 1, nb - 1 do
      -- the buffer, read at each step: m:to() may have converted it
      deltas[l] = e:mm(rawget(self.blocks[l].linear, "direct_feedback"):t())
    end
    table.remove(outs)
    R.add_grads(self.hidden_params, nn.grad(outs, self.hidden_params, deltas))
  end
  return loss:item()
end

nn.document("Learning rules", {
  {"rules.dfa", R.dfa, "nn.rules.dfa(model [, {loss=nn.cross_entropy, optim, lr=1e-3, seed}]) -> rule",
    "Direct feedback alignment: the output error e = dL/dy reaches every hidden layer through a "
      .. "fixed random B_l (buffer \"direct_feedback\", n_l x n_out), delta_l = (e B_l^T) f'(a_l); "
      .. "the last layer gets its true gradient. model: an nn.Sequential of Linear layers and "
      .. "their activations."},
})
