-- tests/lua/autograd_spec.lua: autograd from Lua (nn/lua/lautograd.c, lhooks.c): fields,
-- backward, grad modes, nn.grad, nn.jvp, nn.Function, hooks, and the errors of each.
-- Expected values come from PyTorch (computed once with /usr/bin/python3, in f64).

-- sum(t):backward() (a statement cannot start with a parenthesis after a call in Lua)
local function back(t)
  t:sum():backward()
end

local function leaf(values)
  return nn.tensor(values, "f64"):requires_grad_()
end

describe("autograd fields", function()
  it("requires_grad, is_leaf, grad_fn and grad", function()
    local x = nn.tensor{1, 2, 3}
    assert.is_false(x.requires_grad)
    assert.equal(x, x:requires_grad_())
    assert.is_true(x.requires_grad and x.is_leaf)
    assert.is_nil(x.grad_fn)
    assert.is_nil(x.grad)
    x.requires_grad = false
    assert.is_false(x.requires_grad)
    x:requires_grad_(true)
    local y = x * 2 + 1
    assert.is_true(y.requires_grad)
    assert.is_false(y.is_leaf)
    assert.equal("AddBackward", y.grad_fn.name)
    assert.equal("<AddBackward>", tostring(y.grad_fn))
    assert.equal("<LogSoftmaxBackward>", tostring(nn.log_softmax(y).grad_fn))
    assert.truthy(tostring(y):find("grad_fn=<AddBackward>", 1, true))
    assert.truthy(tostring(x):find("requires_grad=true", 1, true))
    assert.is_nil(tostring(nn.ones(2)):find("grad", 1, true))
  end)

  it("x.grad can be set to nil or a tensor of the same shape, and zero_grad zeroes it", function()
    local x = leaf{1, 2}
    local g = nn.tensor({5, 6}, "f64")
    x.grad = g
    th.same(x.grad, {5, 6})
    g[1] = 7 -- shared, as in PyTorch
    th.same(x.grad, {7, 6})
    assert.equal(x, x:zero_grad())
    th.same(g, {0, 0})
    x.grad = nil
    assert.is_nil(x.grad)
    x:zero_grad() -- no grad: nothing to do
    th.fails(function() x.grad = nn.zeros(3, "f64") end, "nn.grad:", "shape {3}", "{2}")
    th.fails(function() x.grad = nn.zeros(2) end, "nn.grad:", "f32", "f64")
    th.fails(function() x.grad = 3 end, "nn.grad:", "a tensor or nil")
    th.fails(function() x.grad = x end, "its own gradient")
  end)

  it("only float leaves may change requires_grad", function()
    th.fails(function() nn.tensor({1, 2}, "i64"):requires_grad_() end,
      "nn.requires_grad_: only float tensors can require gradients, not i64")
    th.fails(function() nn.ones(2, "u8").requires_grad = true end,
      "nn.requires_grad: only float tensors can require gradients, not u8")
    local y = leaf{1} * 2
    th.fails(function() y.requires_grad = false end, "nn.requires_grad:", "leaf", "MulBackward")
    y.requires_grad = true -- already so: nothing changes
    th.fails(function() leaf{1}:requires_grad_("yes") end, "argument 1 must be a boolean")
    th.fails(function() nn.ones(1).is_leaf = false end, "cannot set field 'is_leaf'")
  end)

  it("detach shares memory and leaves the graph", function()
    local x = leaf{1, 2}
    local y = x * 3
    local d = y:detach()
    assert.is_false(d.requires_grad)
    assert.is_true(d.is_leaf)
    d[1] = 10
    th.same(y, {10, 6})
  end)
end)

describe("backward", function()
  it("goes through views, broadcasting and reductions (PyTorch's gradients)", function()
    local A = leaf{{1, 2, 3}, {4, 5, 6}}
    local b = leaf{0.5, -1, 2}
    local y = (A * b):view(6):narrow(1, 2, 4)
    local z = (y * y):sum() + A:t()[2]:sum() * 3 + A:permute(2, 1):unsqueeze(1):expand(2, 3, 2):mean()
    th.same(z, 93.5, 1e-12)
    z:backward()
    th.same(A.grad, {{1 / 6, 7 + 1 / 6, 24 + 1 / 6}, {2 + 1 / 6, 13 + 1 / 6, 1 / 6}}, 1e-12)
    th.same(b.grad, {16, -58, 36}, 1e-12)
  end)

  it("goes through matmul, relu, pow and mean over a dim", function()
    local A = leaf{{1, 2, 3}, {4, 5, 6}}
    local W = leaf{{1, -1}, {0.5, 2}, {-3, 1}}
    local m = A:matmul(W):relu():pow(2):mean(2):sum()
    th.same(m, 90, 1e-12)
    m:backward()
    th.same(A.grad, {{-6, 12, 6}, {-12, 24, 12}}, 1e-12)
    th.same(W.grad, {{0, 54}, {0, 72}, {0, 90}}, 1e-12)
  end)

  it("goes through max, var and logsumexp", function()
    local A = leaf{{1, 2, 3}, {4, 5, 6}}
    local r = A:max(2):sum() + A:var() + A:logsumexp(2):sum()
    th.same(r, 22.31521192888876, 1e-12)
    r:backward()
    th.same(A.grad, {{-0.9099694268296196, -0.35527152894520253, 1.4652409557748216},
      {0.29003057317038045, 0.8447284710547976, 2.665240955774822}}, 1e-10)
  end)

  it("accumulates into .grad, and a retained graph runs twice", function()
    local x = leaf{1, 2, 3}
    local y = (x * x):sum()
    y:backward(nil, {retain_graph = true})
    th.same(x.grad, {2, 4, 6})
    y:backward()
    th.same(x.grad, {4, 8, 12})
    local err = th.fails(function() y:backward() end, "nn.backward:", "freed", "retain_graph")
    assert.truthy(err:match("^nn%.backward: "))
    local z = (x * 2):sum()
    z:backward{retain_graph = true} -- options in first place
    z:backward()
    th.same(x.grad, {8, 12, 16})
  end)

  it("takes a gradient for non-scalar outputs", function()
    local x = leaf{{1, 2}, {3, 4}}
    local y = x * x
    y:backward(nn.tensor({{1, 0}, {2, 1}}, "f64"))
    th.same(x.grad, {{2, 0}, {12, 8}})
  end)

  it("explains what is wrong", function()
    local x = leaf{1, 2}
    th.fails(function() (x * 2):backward() end,
      "nn.backward: grad can be implicitly created only for a single-element tensor, not shape {2}")
    th.fails(function() nn.ones(1):backward() end, "nn.backward:", "does not require grad")
    th.fails(function() (x * 2):backward(nn.ones(3, "f64")) end, "nn.backward:", "{3}", "{2}")
    th.fails(function() (x * 2):backward(5) end, "nn.backward:", "argument 1")
    th.fails(function() x:sum():backward(nil, {retain_graph = 1}) end, "retain_graph",
      "boolean")
  end)
end)

describe("in-place changes", function()
  it("are refused on tensors autograd tracks, and allowed under nn.no_grad", function()
    local x = leaf{1, 2}
    local msg = "requires grad"
    th.fails(function() x:fill_(1) end, "nn.fill_:", msg)
    th.fails(function() x:zero_() end, "nn.zero_:", msg)
    th.fails(function() x:copy_(nn.ones(2)) end, "nn.copy_:", msg)
    th.fails(function() nn.zeros(2):copy_(x) end, "nn.copy_:", msg)
    th.fails(function() x[1] = 5 end, msg)
    th.fails(function() x:add_(1) end, "nn.add_:", msg)
    th.fails(function() x:mul_(x) end, "nn.mul_:", msg)
    th.fails(function() x:relu_() end, msg)
    th.fails(function() x:clamp_(0, 1) end, "nn.clamp_:", msg)
    th.fails(function() x:uniform_() end, "nn.uniform_:", msg)
    th.fails(function() x:normal_() end, "nn.normal_:", msg)
    th.fails(function() x:masked_fill_(nn.ones(2, "u8"), 0) end, "nn.masked_fill_:", msg)
    th.fails(function() x:index_add_(1, {1}, nn.ones(1, "f64")) end, "nn.index_add_:", msg)
    th.fails(function() (x * 1):add_(1) end, msg)
    th.same(x, {1, 2})
    nn.no_grad(function()
      x:add_(1)
      x[2] = 7
      x:mul_(2)
    end)
    th.same(x, {4, 14})
    local d = x:detach()
    d:fill_(0) -- detached: allowed
    th.same(x, {0, 0})
  end)
end)

describe("grad modes", function()
  it("nn.no_grad(fn, ...) records nothing and returns fn's results", function()
    local x = leaf{1, 2}
    local a, b = nn.no_grad(function(p, q) return p * q, "done" end, x, 3)
    assert.equal("done", b)
    assert.is_false(a.requires_grad)
    assert.is_true(nn.is_grad_enabled())
    assert.is_true((x * 2).requires_grad)
  end)

  it("restores the mode when fn fails, and the error keeps its message", function()
    local ok, err = pcall(nn.no_grad, function() error("boom") end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("boom", 1, true))
    assert.is_true(nn.is_grad_enabled())
    nn.no_grad(function()
      pcall(nn.enable_grad, function() error("inner") end)
      assert.is_false(nn.is_grad_enabled())
    end)
    assert.is_true(nn.is_grad_enabled())
    th.fails(function() nn.no_grad(5) end, "nn.no_grad: argument 1 must be a function")
  end)

  it("works as a to-be-closed guard, nested, with enable_grad inside", function()
    local x = leaf{1}
    do
      local g <close> = nn.no_grad()
      assert.is_false(nn.is_grad_enabled())
      assert.is_false((x * 2).requires_grad)
      do
        local h <close> = nn.enable_grad()
        assert.is_true((x * 2).requires_grad)
      end
      assert.is_false(nn.is_grad_enabled())
    end
    assert.is_true(nn.is_grad_enabled())
    local ok = pcall(function()
      local g <close> = nn.no_grad()
      error("leaving")
    end)
    assert.is_false(ok)
    assert.is_true(nn.is_grad_enabled())
    assert.is_true(nn.set_grad_enabled(false))
    assert.is_false(nn.set_grad_enabled(true))
  end)
end)

describe("nn.grad", function()
  it("returns gradients without touching .grad; zeros where no path leads", function()
    local x, y, u = leaf{1, 2}, leaf{3, 4}, leaf{5}
    local s = (x * y):sum()
    local gs = nn.grad(s, {x, y, u}, nil, {retain_graph = true})
    th.same(gs[1], {3, 4})
    th.same(gs[2], {1, 2})
    th.same(gs[3], {0})
    assert.is_nil(x.grad)
    local g = nn.grad(s, x, {retain_graph = true}) -- options in third place
    th.same(g[1], {3, 4})
    g = nn.grad({x * x, y:sum()}, {x, y}, {nn.tensor({1, 10}, "f64"), nil})
    th.same(g[1], {2, 40})
    th.same(g[2], {1, 1})
  end)

  it("differentiates with respect to intermediate tensors", function()
    local x = leaf{1, 2}
    local h = x * 3
    local s = (h * h):sum()
    local g = nn.grad(s, {h, x})
    th.same(g[1], {6, 12})
    th.same(g[2], {18, 36})
  end)

  it("explains bad arguments", function()
    local x = leaf{1, 2}
    th.fails(function() nn.grad(x * 2, x) end, "nn.grad:", "single-element")
    th.fails(function() nn.grad(x:sum(), nn.ones(2)) end, "nn.grad: inputs[1] does not require grad")
    th.fails(function() nn.grad(x:sum(), {x, 3}) end, "nn.grad: inputs[2] is a number")
    th.fails(function() nn.grad(x:sum(), {}) end, "nn.grad: inputs: the list is empty")
    th.fails(function() nn.grad(x:sum(), x, {"a"}) end, "grad_outputs[1] is a string")
  end)
end)

describe("nn.jvp", function()
  -- central differences in f64 of fn along v at x (fn returns one tensor)
  local function numeric(fn, xs, vs, eps)
    local plus, minus = {}, {}
    for i, x in ipairs(xs) do
      plus[i] = x + vs[i] * eps
      minus[i] = x - vs[i] * eps
    end
    return (fn(table.unpack(plus)) - fn(table.unpack(minus))) / (2 * eps)
  end

  it("matches finite differences", function()
    nn.manual_seed(1)
    local fn = function(a, b) return (a:matmul(b)):tanh():sum(2) + nn.softmax(a, 1):sum(2) end
    local a, b = nn.randn(3, 4):double(), nn.randn(4, 4):double()
    local va, vb = nn.randn(3, 4):double(), nn.randn(4, 4):double()
    local out, tan = nn.jvp(fn, {a, b}, {va, vb})
    assert.is_true(nn.is_tensor(out) and nn.is_tensor(tan))
    th.same(out, fn(a, b):totable(), 1e-12)
    th.same(tan, numeric(fn, {a, b}, {va, vb}, 1e-6):totable(), 1e-6)
  end)

  it("takes single tensors, returns lists for several outputs, zeros for constants", function()
    local x = nn.tensor({1, 2, 3}, "f64")
    local outs, tans = nn.jvp(function(t) return {t * t, nn.ones(2)} end, x,
      nn.tensor({1, 0, 1}, "f64"))
    th.same(outs[1], {1, 4, 9})
    th.same(tans[1], {2, 0, 6})
    th.same(tans[2], {0, 0})
    local o, t = nn.jvp(function(p) return p end, x, nn.ones(3, "f64"))
    th.same(o, {1, 2, 3})
    th.same(t, {1, 1, 1})
    outs, tans = nn.jvp(function(p) return p:sin(), p:cos() end, x, nn.ones(3))
    th.same(tans[1], x:cos():totable(), 1e-12)
    th.same(tans[2], (-x:sin()):totable(), 1e-12)
  end)

  it("explains bad arguments and leaves forward mode when fn fails", function()
    local x = nn.ones(2)
    th.fails(function() nn.jvp(function() end, x, x) end, "nn.jvp: fn returned no tensor")
    th.fails(function() nn.jvp(function() return 1 end, x, x) end, "output 1 of fn is a number")
    th.fails(function() nn.jvp(function(p) return p end, x, nn.ones(3)) end,
      "tangents[1] has shape {3}")
    th.fails(function() nn.jvp(function(p) return p end, {x, x}, {x}) end, "1 tangents for 2")
    th.fails(function() nn.jvp(function(p) return p end, nn.ones(2, "i64"), x) end, "float")
    th.fails(function() nn.jvp(function() error("in fn") end, x, x) end, "in fn")
    -- forward mode is off again: in-place ops on fresh tensors work
    local y = nn.ones(2)
    y:add_(1)
    th.same(y, {2, 2})
  end)
end)

describe("nn.Function", function()
  local Square = nn.Function{
    name = "Square",
    forward = function(ctx, x, scale)
      ctx:save_for_backward(x)
      ctx.scale = scale
      return x * x * scale
    end,
    backward = function(ctx, g)
      local x = ctx.saved_tensors[1]
      return g * x * 2 * ctx.scale, nil
    end,
  }

  it("runs forward without recording and backward through its own node", function()
    local x = leaf{1, 2, 3}
    local y = Square(x, 3)
    th.same(y, {3, 12, 27})
    assert.equal("SquareBackward", y.grad_fn.name)
    y:sum():backward()
    th.same(x.grad, {6, 12, 18})
    assert.equal("nn.Function(Square)", tostring(Square))
  end)

  it("passes nn.gradcheck, and composes with other ops", function()
    local ok, report = nn.gradcheck(function(x) return Square(x:sin(), 0.5):exp() end,
      {nn.tensor({0.1, 0.5, -0.3})})
    assert.is_true(ok, report)
    local Mul = nn.Function{
      forward = function(ctx, a, b)
        ctx:save_for_backward(a, b)
        return a * b
      end,
      backward = function(ctx, g)
        local a, b = table.unpack(ctx.saved_tensors)
        return g * b, g * a
      end,
    }
    ok, report = nn.gradcheck(Mul, {nn.randn(3, 2), nn.randn(3, 2)})
    assert.is_true(ok, report)
  end)

  it("tells which inputs need gradients, and records nothing when none does", function()
    local seen
    local F = nn.Function{
      forward = function(ctx, a, b) seen = ctx.needs_input_grad; return a + b end,
      backward = function(ctx, g) return g, g end,
    }
    local a = leaf{1}
    local y = F(a, nn.ones(1, "f64"))
    assert.same({true, false}, seen)
    y:backward()
    th.same(a.grad, {2 - 1})
    local z = F(nn.ones(1), nn.ones(1))
    assert.is_nil(z.grad_fn)
    z = nn.no_grad(F, a, a)
    assert.is_nil(z.grad_fn)
    local Id = nn.Function{forward = function(ctx, x) return x end,
      backward = function(ctx, g) return g end}
    local w = Id(a)
    assert.is_false(w.is_leaf) -- an alias owns the node, not a itself
    assert.is_true(a.is_leaf)
  end)

  it("takes callable tables as forward and backward", function()
    local function callable(f)
      return setmetatable({}, {__call = function(_, ...) return f(...) end})
    end
    local Double = nn.Function{forward = callable(function(ctx, x) return x * 2 end),
      backward = callable(function(ctx, g) return g * 2 end)}
    local x = nn.tensor({1, 2}, "f64"):requires_grad_()
    local y = Double(x)
    th.same(y, {2, 4})
    y:sum():backward()
    th.same(x.grad, {2, 2})
  end)

  it("has several outputs and a forward-mode rule of its own", function()
    -- sincos(x) -> sin x, cos x, with both derivatives written by hand
    local SinCos = nn.Function{
      name = "SinCos",
      forward = function(ctx, x)
        ctx:save_for_backward(x)
        return x:sin(), x:cos()
      end,
      backward = function(ctx, gs, gc)
        local x = ctx.saved_tensors[1]
        local g = x * 0
        if gs then g = g + gs * x:cos() end
        if gc then g = g - gc * x:sin() end
        return g
      end,
      jvp = function(ctx, t)
        local x = ctx.saved_tensors[1]
        return t * x:cos(), -t * x:sin()
      end,
    }
    local x = nn.randn(5):double():requires_grad_()
    local s, c = SinCos(x)
    th.same(s, x:detach():sin():totable(), 1e-12)
    th.same(c, x:detach():cos():totable(), 1e-12)
    assert.truthy(s.grad_fn and c.grad_fn)
    -- both outputs, one, the other: the gradient of each combination
    local g = nn.grad((s * 2 + c * 3):sum(), {x})[1]
    th.same(g, (x:detach():cos() * 2 - x:detach():sin() * 3):totable(), 1e-12)
    s, c = SinCos(x)
    g = nn.grad(c:sum(), {x})[1]
    th.same(g, (-x:detach():sin()):totable(), 1e-12)
    assert.is_true(nn.gradcheck(function(v) local a, b = SinCos(v) return a * b end,
      {nn.randn(4):double():requires_grad_()}))
    -- forward mode runs the jvp rule (the forward's own ops carry no tangents)
    local v = nn.randn(5):double()
    local outs, tans = nn.jvp(SinCos, {x:detach()}, {v})
    th.same(tans[1], (v * x:detach():cos()):totable(), 1e-12)
    th.same(tans[2], (-v * x:detach():sin()):totable(), 1e-12)
    -- a forward made of ops without a forward mode (here a Function without jvp) works
    -- with a jvp rule: inside forward, forward mode is off
    local NoJvp = nn.Function{forward = function(ctx, z) return z * 2 end, backward = print}
    local Argmaxish = nn.Function{
      forward = function(ctx, z) return NoJvp(z) end,
      backward = function(ctx, gz) return gz end,
      jvp = function(ctx, t) return t * 2 end,
    }
    local _, t2 = nn.jvp(Argmaxish, {nn.ones(3, "f64")}, {nn.ones(3, "f64")})
    th.same(t2, {2, 2, 2})
    th.fails(function() nn.jvp(nn.Function{forward = function(ctx, z) return z, z end,
      backward = print, jvp = function(ctx, t) return t end}, {nn.ones(2)}, {nn.ones(2)}) end,
      "the jvp of Function returned 1 values for 2 outputs of forward")
  end)

  it("reports errors of forward and backward, and the session goes on", function()
    local Bad = nn.Function{
      name = "Bad",
      forward = function(ctx, x) return x * 1 end,
      backward = function(ctx, g) error("no backward today") end,
    }
    local x = leaf{1, 2}
    local err = th.fails(function() Bad(x):sum():backward() end, "nn.backward:",
      "the backward of Bad failed", "no backward today")
    assert.truthy(err:match("^nn%.backward: "))
    local Wrong = nn.Function{
      forward = function(ctx, v) return v * 1 end,
      backward = function(ctx, g) return nn.ones(5, "f64") end,
    }
    th.fails(function() Wrong(x):sum():backward() end, "shape {5}", "argument 1 of shape {2}")
    Wrong = nn.Function{forward = function(ctx, v) return v * 1 end,
      backward = function(ctx, g) return "grad" end}
    th.fails(function() Wrong(x):sum():backward() end, "returned a string for argument 1")
    Wrong = nn.Function{forward = function(ctx, v) return v * 1 end,
      backward = function(ctx, g) return g, g end}
    th.fails(function() Wrong(x):sum():backward() end, "returned 2 values for 1 arguments")
    th.fails(function() nn.Function{forward = function() return 1 end,
      backward = print}(x) end, "nn.Function: forward must return 1 to 4 tensors, got a number as result 1")
    th.fails(function() nn.Function{forward = function() error("fwd") end,
      backward = print}(x) end, "fwd")
    assert.is_true(nn.is_grad_enabled())
    th.fails(function() nn.Function{forward = 1} end, "nn.Function: forward must be a function")
    th.fails(function() nn.jvp(Square, x:detach(), nn.ones(2, "f64")) end,
      "Square has no forward-mode derivative")
    -- the session goes on
    local y = (x * x):sum()
    y:backward()
    th.same(x.grad, {2, 4})
  end)
end)

describe("hooks", function()
  it("a leaf's hook sees and may replace its gradient", function()
    local x = leaf{1, 2}
    local seen
    local h = x:register_hook(function(g) seen = g:clone(); return g * 10 end)
    local h2 = x:register_hook(function(g) return g + 1 end)
    back(x * 3)
    th.same(seen, {3, 3})
    th.same(x.grad, {31, 31})
    h:remove()
    h:remove() -- twice is fine
    x.grad = nil
    back(x * 3)
    th.same(x.grad, {4, 4})
    h2:remove()
    x.grad = nil
    back(x * 3)
    th.same(x.grad, {3, 3})
    assert.truthy(tostring(h):find("hook", 1, true))
  end)

  it("a non-leaf's hook changes what flows further back", function()
    local x = leaf{1, 2}
    local y = x * 2
    y:register_hook(function(g) return g * 0.5 end)
    local calls = 0
    y:register_hook(function(g) calls = calls + 1 end)
    back(y * y)
    th.same(x.grad, {4, 8}) -- 2 * (2y * 0.5)
    assert.equal(1, calls)
    local g = nn.grad((x * 2):sum(), x)
    th.same(g[1], {2, 2})
  end)

  it("an error in a hook fails the backward, and the next backward works", function()
    local x = leaf{1, 2}
    local h = x:register_hook(function() error("hook trouble") end)
    th.fails(function() (x * 2):sum():backward() end, "nn.backward:", "a gradient hook failed",
      "hook trouble")
    assert.is_nil(x.grad)
    h:remove()
    x:register_hook(function() return nn.ones(3, "f64") end)
    th.fails(function() (x * 2):sum():backward() end, "nn.backward:", "shape {3}")
    local y = leaf{1}
    y:register_hook(function() return "no" end)
    th.fails(function() y:sum():backward() end, "returned a string")
    local z = leaf{1, 2}
    back(z * z)
    th.same(z.grad, {2, 4})
    th.fails(function() nn.ones(1):register_hook(print) end, "does not require grad")
    th.fails(function() z:register_hook(3) end, "argument 1 must be a function")
  end)

  it("may run the collector, make and drop graphs, or run a backward of their own", function()
    local x = leaf{1, 2}
    local y = x
    for i = 1, 30 do
      y = (y * 1.01):sin()
      if i == 15 then
        y:register_hook(function(g)
          nn.enable_grad(function() local junk = (x * 2):sum() end) -- luacheck: ignore
          collectgarbage()
          collectgarbage()
          local u = leaf{3} -- a separate graph (backward runs without grad mode)
          local inner = nn.grad(nn.enable_grad(function() return (u * u):sum() end), u)
          th.same(inner[1], {6})
          return g
        end)
      end
    end
    local s = y:sum()
    y = nil -- luacheck: ignore
    collectgarbage()
    s:backward()
    th.same(x.grad, {0.016531134830964352, -0.011009951951537322}, 1e-12)
  end)

  it("hooks and Function records go when their tensors do", function()
    collectgarbage()
    local function count()
      local n = 0
      for _ in pairs(debug.getregistry()["nn.callbacks"]) do n = n + 1 end
      return n
    end
    local before = count()
    for _ = 1, 50 do
      local x = leaf{1}
      x:register_hook(function() end)
      local y = nn.Function{forward = function(ctx, v) return v * 1 end,
        backward = function(ctx, g) return g end}(x)
      y:register_hook(function() end)
    end
    collectgarbage()
    collectgarbage()
    leaf{1}:register_hook(print) -- empties the queue of forgotten ids
    collectgarbage()
    assert.is_true(count() <= before + 2, count() .. " entries left, " .. before .. " before")
  end)
end)
