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

  it("the fused C ops agree with compositions of ops on large inputs, gradients included", function()
    nn.manual_seed(11)
    local x = d(64, 16, 64):requires_grad_() -- 65536 elements: the pool's pieces
    local g = d(64, 16, 64)
    local function pc(p) return p:reshape(16, 1) end
    local a = (nn.rand(16):double() + 0.5):requires_grad_()
    local s1 = (nn.rand(1):double() + 0.5):requires_grad_()
    local SQRT_2PI = math.sqrt(2 * math.pi)
    local ra, rb = d(4):requires_grad_(), d(3):requires_grad_()
    local cases = {
      {function() return nn.prelu(x, a) end,
        function() local r = nn.relu(x); return r + (x - r) * pc(a) end, {x, a}},
      {function() return nn.swish_beta(x, s1) end,
        function() return x * nn.sigmoid(x * s1) end, {x, s1}},
      {function() return nn.snake_a(x, a) end,
        function() local s = nn.sin(x * pc(a)); return x + s * s / pc(a) end, {x, a}},
      {function() return nn.sau(x, a * 0.1, a) end,
        function()
          local al, sg = pc(a * 0.1), pc(a)
          local z = x / sg
          return x * al + (nn.gelu(z) + nn.exp(z * z * -0.5) / SQRT_2PI) * sg * (1 - al)
        end, {x, a}},
      {function() return nn.rational(x, ra, rb) end,
        function()
          local function c(t, j) return t:narrow(1, j, 1) end
          local p = c(ra, 4) + x * 0
          for j = 3, 1, -1 do p = p * x + c(ra, j) end
          local q = c(rb, 3) * x
          for k = 2, 1, -1 do q = (q + c(rb, k)) * x end
          return p / (nn.abs(q) + 1)
        end, {x, ra, rb}},
    }
    for i, c in ipairs(cases) do
      local y1, y2 = c[1](), c[2]()
      local g1, g2 = nn.grad({y1}, c[3], {g}), nn.grad({y2}, c[3], {g})
      assert.is_true((y1 - y2):abs():max():item() < 1e-12, "case " .. i .. " forward")
      for k = 1, #g1 do
        local err = (g1[k] - g2[k]):abs():max():item() / (g2[k]:abs():max():item() + 1)
        assert.is_true(err < 1e-10, "case " .. i .. " gradient " .. k .. ": " .. err)
      end
    end
    local h = d(300, 512):requires_grad_()
    local gh = d(300, 256)
    local gated = {glu = function(u, v) return u * nn.sigmoid(v) end,
      reglu = function(u, v) return nn.relu(u) * v end,
      geglu = function(u, v) return nn.gelu(u) * v end,
      swiglu = function(u, v) return nn.silu(u) * v end,
      bilinear = function(u, v) return u * v end}
    for name, f in pairs(gated) do
      local want = f(h:narrow(2, 1, 256), h:narrow(2, 257, 256))
      local y = nn[name](h)
      assert.is_true((y - want):abs():max():item() < 1e-12, name)
      local e = (nn.grad({y}, {h}, {gh})[1] - nn.grad({want}, {h}, {gh})[1]):abs():max():item()
      assert.is_true(e < 1e-12, name .. " gradient " .. e)
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

  it("one bias-free PReLU neuron solves XOR under Adam, its slope going to -1 (E1)", function()
    local x = nn.tensor{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}}
    local t = nn.tensor{{0}, {1}, {1}, {0}}
    for seed = 1, 10 do
      nn.manual_seed(seed)
      local m = nn.Sequential(nn.Linear(2, 1, {bias = false}), nn.PReLU())
      local opt = nn.optim.Adam(m, {lr = 0.1})
      for _ = 1, 300 do
        opt:zero_grad()
        nn.mse_loss(m(x), t):backward()
        opt:step()
      end
      local y = nn.no_grad(function() return m(x) end)
      assert.are.same({0, 1, 1, 0}, y:gt(0.5):flatten():totable())
      assert.is_true(math.abs(m[2].weight[1] + 1) < 0.01)
    end
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
    assert.has_error(function() nn.glu(nn.ones(3, 4), 3) end,
      "nn.glu: dim 3 is out of range for input shape {3,4}")
    assert.has_error(function() nn.rational(nn.ones(3), nn.zeros(40), nn.zeros(2)) end,
      "nn.rational: the numerator coefficients must be a 1-D tensor of 1 to 32 values at most, "
        .. "not shape {40}")
    assert.has_error(function() nn.sau(nn.ones(2, 3), nn.ones(3), nn.ones(2)) end,
      "nn.sau: 2 parameters for 3 channels (input shape {2,3})")
    assert.has_error(function() nn.fatrelu(nn.ones(2), -1) end,
      "nn.fatrelu: the threshold must be positive, not -1")
    assert.has_error(function() nn.helu(nn.ones(2), 0) end, "nn.helu: alpha must be positive, not 0")
    assert.has_error(function() nn.relu_attention(nn.ones(2, 3), 0) end,
      "nn.relu_attention: dim 0 is out of range for input shape {2,3}")
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

  it("regelu2's graph lets its input's data go; gelu's keeps it; the gradients are the same", function()
    local function freed_and_grad(f, drop)
      nn.manual_seed(3)
      local w = nn.randn(1000, 1000):requires_grad_()
      local x = w * 2 -- a non-leaf of 4 MB that only the graph would hold
      local y = f(x)
      collectgarbage(); collectgarbage()
      local held = nn.memory()
      if drop then x = nil end
      collectgarbage(); collectgarbage()
      local freed = held - nn.memory()
      y:sum():backward()
      return freed, w.grad
    end
    local freed, g = freed_and_grad(nn.regelu2, true)
    local _, g_kept = freed_and_grad(nn.regelu2, false)
    assert.is_true(freed >= 4e6, "x's data freed: " .. freed)
    assert.are.same(g_kept:totable(), g:totable())
    assert.are.equal(0, (freed_and_grad(nn.gelu, true)))
    assert.are.equal(0, (freed_and_grad(nn.resilu2, false)))
  end)
end)
