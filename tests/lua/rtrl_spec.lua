-- tests/lua/rtrl_spec.lua: nn.rules.rtrl's sensitivities give BPTT's gradient exactly.

-- a one-layer tanh RNN written out step by step with ops: autograd through it is BPTT
local function unrolled_rnn(nin, hidden, nonlinearity)
  local Tiny = nn.Module:extend("UnrolledRNN")
  function Tiny:init()
    self.nonlinearity = nonlinearity
    self.weight_ih_l0 = self:parameter(nn.randn(hidden, nin):double() * 0.5)
    self.weight_hh_l0 = self:parameter(nn.randn(hidden, hidden):double() * 0.5)
    self.bias_ih_l0 = self:parameter(nn.randn(hidden):double() * 0.1)
    self.bias_hh_l0 = self:parameter(nn.randn(hidden):double() * 0.1)
  end
  function Tiny:forward(x)
    local h = nn.zeros(x:size(1), hidden):double()
    local outs = {}
    for t = 1, x:size(2) do
      local a = nn.linear(x:select(2, t), self.weight_ih_l0, self.bias_ih_l0)
        + nn.linear(h, self.weight_hh_l0, self.bias_hh_l0)
      h = self.nonlinearity == "relu" and a:relu() or a:tanh()
      outs[t] = h
    end
    return nn.stack(outs, 2), h
  end
  return Tiny()
end

-- the sum over steps of loss(readout(h_t), y_t), through the model's forward
local function bptt_grads(model, readout, x, y, params)
  local out = model(x)
  local loss
  for t = 1, x:size(2) do
    local l = nn.mse_loss(readout(out:select(2, t)), y:select(2, t))
    loss = loss and loss + l or l
  end
  return nn.grad(loss, params), loss:item()
end

describe("nn.rules.rtrl", function()
  for _, f in ipairs{"tanh", "relu"} do
    it("sums to BPTT's gradient over a sequence (" .. f .. ")", function()
      nn.manual_seed(3)
      local rnn = unrolled_rnn(3, 5, f)
      local readout = nn.Linear(5, 2):double()
      local x, y = nn.randn(4, 6, 3):double(), nn.randn(4, 6, 2):double()
      local r = nn.rules.rtrl(rnn, {readout = readout, loss = nn.mse_loss})
      local params = r.params
      local want, want_loss = bptt_grads(rnn, readout, x, y, params)
      for _, p in ipairs(params) do p.grad = nil end
      local loss = r:gradients(x, y)
      assert.near(want_loss, loss, 1e-10)
      for i, p in ipairs(params) do
        assert.is_true(nn.is_tensor(p.grad), "parameter " .. i .. " got a gradient")
        local err = (p.grad - want[i]):abs():max():item()
        assert.is_true(err < 1e-10, "parameter " .. i .. ": off by " .. err)
      end
      for _, deg in pairs(r:angles(x, y)) do assert.is_true(deg < 1e-4) end
    end)
  end

  it("equals the gradient of nn.RNN's fused BPTT", function()
    nn.manual_seed(5)
    local rnn, head = nn.RNN(3, 6):double(), nn.Linear(6, 2):double()
    local x, y = nn.randn(4, 7, 3):double(), nn.randn(4, 7, 2):double()
    local r = nn.rules.rtrl(rnn, {readout = head})
    local truth = r:bptt_gradients(x, y)
    for _, p in ipairs(r.params) do p.grad = nil end
    r:gradients(x, y)
    for _, k in ipairs{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"} do
      local p = rnn[k]
      local err = (p.grad - truth[p]):abs():max():item()
      assert.is_true(err < 1e-10, k .. ": off by " .. err)
    end
  end)

  it("a loss at the last step only, and online updates that lower the loss", function()
    nn.manual_seed(4)
    local rnn = unrolled_rnn(2, 4, "tanh")
    local x, y = nn.randn(8, 5, 2):double(), nn.randn(8, 4):double() * 0.5
    local r = nn.rules.rtrl(rnn, {optim = nn.optim.SGD(rnn, {lr = 0.05})})
    local out = rnn(x)
    local want = nn.grad(nn.mse_loss(out:select(2, 5), y), rnn:parameters())
    r:gradients(x, y)
    for i, p in ipairs(rnn:parameters()) do
      assert.is_true((p.grad - want[i]):abs():max():item() < 1e-10)
    end
    local first = r:step(x, y)
    local last
    for _ = 1, 200 do last = r:step(x, y) end
    assert.is_true(last < 0.5 * first, string.format("loss %g -> %g", first, last))
  end)

  it("names the rule and what it needs", function()
    th.fails(function() nn.rules.rtrl(nn.Linear(2, 2)) end,
      "nn.rules.rtrl: expected a one-layer nn.RNN, got a model without weight_ih_l0")
    local r = nn.rules.rtrl(unrolled_rnn(2, 3, "tanh"))
    th.fails(function() r:step(nn.zeros(2, 3), nn.zeros(2, 3)) end,
      "nn.rules.rtrl: x must be (batch, time, features), got {2,3}")
    th.fails(function() r:step(nn.zeros(2, 4, 5):double(), nn.zeros(2, 3):double()) end,
      "nn.rules.rtrl: input has 5 features, the RNN expects 2")
    th.fails(function() r:step(nn.zeros(2, 0, 2):double(), nn.zeros(2, 3):double()) end,
      "nn.rules.rtrl: the sequence is empty")
  end)
end)
