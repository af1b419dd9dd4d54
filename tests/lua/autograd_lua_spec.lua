-- tests/lua/autograd_lua_spec.lua: nn.gradcheck (stdlib/nn/autograd.lua).
describe("nn.gradcheck", function()
  it("passes for correct gradients, in f64 whatever the inputs' dtype", function()
    local x, y = nn.randn(3, 4), nn.randn(3, 4)
    local ok, report = nn.gradcheck(function(a, b) return (a * b):tanh() end, {x, y})
    assert.is_true(ok, report)
    assert.truthy(report:find("24 elements", 1, true), report)
    ok, report = nn.gradcheck(nn.linear, {nn.randn(2, 3), nn.randn(4, 3), nn.randn(4)})
    assert.is_true(ok, report)
  end)

  it("checks only the inputs that require grad when some do", function()
    local x, w = nn.randn(2, 3), nn.randn(4, 3):requires_grad_(true)
    local ok, report = nn.gradcheck(nn.linear, {x, w})
    assert.is_true(ok, report)
    assert.truthy(report:find("12 elements", 1, true), report)
  end)

  it("passes integer inputs through", function()
    local logits, target = nn.randn(4, 3), nn.tensor({1, 3, 2, 2}, "i64")
    local ok, report = nn.gradcheck(nn.cross_entropy, {logits, target})
    assert.is_true(ok, report)
  end)

  it("finds a wrong gradient and names the element", function()
    local wrong = nn.Function{
      forward = function(ctx, a) ctx:save_for_backward(a); return a * a end,
      backward = function(ctx, g)
        local a = ctx.saved_tensors[1]
        return g * a * 2 + nn.one_hot(nn.tensor({2}, "i64"), 3):view(-1):double() * g
      end,
    }
    local ok, report = nn.gradcheck(wrong, {nn.tensor({1, 2, 3})})
    assert.is_false(ok)
    assert.truthy(report:find("input 1 element {2}", 1, true), report)
  end)

  it("rejects what it cannot check", function()
    th.fails(function() nn.gradcheck(3, {}) end, "nn.gradcheck: the first argument")
    th.fails(function() nn.gradcheck(function(a) return a end, {nn.zeros(2, "i64")}) end,
      "no float input")
  end)
end)
