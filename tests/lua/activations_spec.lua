-- tests/lua/activations_spec.lua: learnable, gated and discrete-sample activations
-- (stdlib/nn/activations.lua) and the table's new ops: gradients against finite
-- differences in f64, modules, bad input.
local nn = require "nn"

local function d(...) return nn.randn(...):double() end

describe("learnable activations", function()
  it("have exact gradients for the input and the parameters (f64 finite differences)", function()
    nn.manual_seed(3)
    local x, a = d(4, 3), nn.rand(3):double() + 0.5
    local cases = {
      function(x, a) return nn.prelu(x, a) end,
      function(x, a) return nn.swish_beta(x, a) end,
      function(x, a) return nn.snake_a(x, a) end,
      function(x, a) return nn.sau(x, a * 0.1, a) end,
      function(x, a) return nn.rational(x, nn.cat({a, a}, 1), a) end,
      function(x) return nn.relu_attention(x) end,
      function(x) return nn.glu(nn.cat({x, x * 2}, 2)) end,
      function(x) return nn.reglu(nn.cat({x, x * 2}, 2)) end,
      function(x) return nn.geglu(nn.cat({x, x * 2}, 2)) end,
      function(x) return nn.swiglu(nn.cat({x, x * 2}, 2)) end,
    }
    for i, f in ipairs(cases) do
      local ok, report = nn.gradcheck(f, {x, a})
      assert.is_true(ok, "case " .. i .. ": " .. tostring(report))
    end
  end)

  it("PReLU shares one slope or keeps one per channel, starting at 0.25", function()
    local m = nn.PReLU(3)
    assert.are.equal(3, m.weight:numel())
    assert.are.equal(0.25, m.weight[1])
    local y = m(nn.full({2, 3}, -2))
    assert.are.equal(-0.5, y[1][2])
    local x = nn.full({2, 3, 4}, -1)
    assert.are.equal(-0.25, nn.PReLU()(x)[2][3][4])
    assert.has_error(function() nn.prelu(x, nn.ones(2)) end,
      "nn.prelu: 2 parameters for 3 channels (input shape {2,3,4})")
  end)

  it("a PReLU neuron's slope learns", function()
    local m = nn.PReLU()
    local y = m(nn.full({4}, -1)):sum()
    y:backward()
    assert.are.equal(-4, m.weight.grad[1])
  end)

  it("Rational starts near leaky ReLU and rejects negative degrees", function()
    local r = nn.Rational()
    local y = r(nn.tensor({-2, 0.5, 2}))
    assert.is_true(math.abs(y[3] - 2) < 0.07 and math.abs(y[2] - 0.5) < 0.07)
    assert.has_error(function() nn.Rational(2, -1) end,
      "nn.Rational: the denominator degree must be a non-negative integer, not -1")
  end)

  it("rejects a non-positive beta or sigma, and odd gated widths, naming them", function()
    assert.has_error(function() nn.SwishBeta(1, {init = -1}) end,
      "nn.SwishBeta: beta must be positive, not -1")
    assert.has_error(function() nn.sau(nn.ones(2), 0.1, 0) end, "nn.sau: sigma must be positive, not 0")
    assert.has_error(function() nn.swiglu(nn.ones(2, 5)) end,
      "nn.swiglu: the input's dim 2 has odd width 5 (input shape {2,5}); it must split in two")
    assert.has_error(function() nn.fatrelu(nn.ones(2), -1) end,
      "nn.fatrelu: the threshold must be positive, not -1")
    assert.has_error(function() nn.helu(nn.ones(2), 0) end, "nn.helu: alpha must be positive, not 0")
  end)

  it("gated modules have two projections of width hidden", function()
    local m = nn.SwiGLU(6, 5)
    assert.are.same({3, 5}, m(nn.randn(3, 6)):shape())
    assert.are.same({10, 6}, m.proj.weight:shape())
  end)
end)

describe("discrete samples", function()
  it("straight_through: a one-hot forward, softmax(logits/tau)'s Jacobian backward", function()
    nn.manual_seed(5)
    local l = d(6, 4):requires_grad_()
    local g = d(6, 4)
    local y = nn.straight_through(l, 2)
    assert.are.same(nn.ones(6):double():totable(), y:sum(2):totable())
    local got = nn.grad({(y * g):sum()}, {l})[1]
    local s = nn.softmax(l:detach() / 2, 2)
    local want = (s * g - s * (s * g):sum(2, true)) / 2
    assert.is_true((got - want):abs():max():item() < 1e-12)
  end)

  it("reinmax: centered gradients, tau >= 1", function()
    local l = d(6, 4):requires_grad_()
    local y = nn.reinmax(l, 1)
    local got = nn.grad({(y * d(6, 4)):sum()}, {l})[1]
    assert.is_true(got:sum(2):abs():max():item() < 1e-12)
    assert.has_error(function() nn.reinmax(l, 0.5) end, "nn.reinmax: tau must be >= 1, not 0.5")
  end)
end)

describe("the approximate-backward ops", function()
  it("regelu2 keeps 1 byte per 4 elements for backward, gelu 4 per element", function()
    local x = nn.randn(1000):requires_grad_()
    assert.are.equal(250, nn.saved_bytes(nn.regelu2(x)))
    assert.are.equal(4000, nn.saved_bytes(nn.gelu(x)))
    assert.are.same(nn.gelu(x):totable(), nn.regelu2(x):totable())
  end)
end)
