-- tests/lua/probes_spec.lua: the crashes and silently wrong answers that probing the build
-- found (issue 15), each checked for the error PyTorch gives or for the right value.

describe("views with sizes near 2^63", function()
  it("narrow refuses a length whose end overflows", function()
    local x = nn.zeros(2, 3)
    th.fails(function() x:narrow(1, 2, math.maxinteger) end,
      "start 2 and length 9223372036854775807 are out of bounds for dimension 1 of size 2")
    th.fails(function() x:narrow(2, 1, -1) end, "out of bounds")
    th.same(x:narrow(1, 2, 1):fill_(1), {{1, 1, 1}})
    th.same(x:sum(), 3)
  end)

  it("expand refuses more than 2^63 elements and counts the ones it makes", function()
    th.fails(function() nn.ones(1, 1):expand(2 ^ 62 + 1, 4) end, "more than 2^63 elements")
    assert.equal(2 ^ 60, nn.ones(1, 1):expand(2 ^ 40, 2 ^ 20):numel())
  end)
end)

describe("in-place writes", function()
  it("copy between overlapping views reads the source as it was", function()
    local x = nn.range(1, 6)
    x:narrow(1, 2, 3):copy_(x:narrow(1, 1, 3))
    th.same(x, {1, 1, 2, 3, 5, 6})
    local m = nn.tensor{{1, 2}, {3, 4}}
    m:t():copy_(m)
    th.same(m, {{1, 3}, {2, 4}})
    local y = nn.range(1, 6)
    y:narrow(1, 1, 3):add_(y:narrow(1, 2, 3))
    th.same(y, {3, 5, 7, 4, 5, 6})
  end)

  it("refuses writes into an expanded view, as PyTorch", function()
    local e = nn.zeros(1, 3):expand(2, 3)
    th.fails(function() e:add_(1) end, "nn.add_", "expanded view of shape {2,3}", "clone()")
    th.fails(function() e:copy_(nn.ones(2, 3)) end, "expanded view")
    th.fails(function() e:index_add_(1, nn.tensor({1}, "i64"), nn.ones(1, 3)) end,
      "expanded view")
    e:fill_(2) -- one value for every element: allowed, as PyTorch's fill_
    th.same(e, {{2, 2, 2}, {2, 2, 2}})
  end)

  it("a tensor saved for backward and then changed in place fails the backward", function()
    local w = nn.tensor{1, 2, 3}:requires_grad_()
    local y = (w * w):sum()
    nn.no_grad(function() w:mul_(10) end)
    th.fails(function() y:backward() end, "needed by the backward of mul",
      "modified by an in-place operation", "version 1, expected 0")
    local x = nn.tensor{1, 1, 1}
    local v = nn.tensor{1, 2, 3}:requires_grad_()
    local z = (v * x):sum()
    x:fill_(5)
    th.fails(function() z:backward() end, "backward of mul")
    -- changed before the op ran, or after its backward: nothing to refuse
    local u = nn.tensor{1, 2}:requires_grad_()
    local s = (u * 3):sum()
    s:backward()
    nn.no_grad(function() u:mul_(2) end)
    th.same(u.grad, {3, 3})
  end)
end)

describe("NaN", function()
  it("propagates through relu and its kin, as in PyTorch", function()
    local x = nn.tensor{0 / 0, -1, 2}
    for _, f in ipairs{"relu", "relu2", "helu", "relu_attention"} do
      local y = nn[f](x):totable()
      assert.is_true(y[1] ~= y[1], f .. " of nan is " .. tostring(y[1]))
      assert.equal(0, y[2], f)
    end
    local y = nn.shifted_relu(x, 0.5):totable()
    assert.is_true(y[1] ~= y[1])
    y = nn.fatrelu(x, 0.5):totable()
    assert.is_true(y[1] ~= y[1])
    local m = nn.tensor{0 / 0, 1}:max():item()
    assert.is_true(m ~= m)
  end)
end)

describe("nn.grad", function()
  it("gives a target listed twice its gradient twice", function()
    local x = nn.tensor{1, 2}:requires_grad_()
    local g = nn.grad((x * x):sum(), {x, x})
    th.same(g[1], {2, 4})
    th.same(g[2], {2, 4})
  end)
end)

describe("grad mode in coroutines", function()
  it("comes back after an error inside nn.no_grad in a coroutine", function()
    local co = coroutine.create(function() nn.no_grad(function() error("inside") end) end)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("inside", 1, true))
    assert.is_true(nn.is_grad_enabled())
  end)

  it("stays off while the coroutine is suspended inside, and comes back at its end", function()
    local co = coroutine.create(function()
      return nn.no_grad(function() coroutine.yield(nn.is_grad_enabled()) return 5 end)
    end)
    local _, inside = coroutine.resume(co)
    assert.is_false(inside)
    local _, five = coroutine.resume(co)
    assert.equal(5, five)
    assert.is_true(nn.is_grad_enabled())
  end)
end)

describe("integers", function()
  it("wrap on overflow and refuse negative powers, as PyTorch", function()
    assert.equal(math.mininteger, (nn.tensor({math.maxinteger}, "i64") + 1):item())
    assert.equal(math.mininteger, (-nn.tensor({math.mininteger}, "i64")):item())
    assert.equal(0, (nn.tensor({2 ^ 62}, "i64") * 4):item())
    assert.equal(math.maxinteger * 3, (nn.tensor({math.maxinteger}, "i64") * 3):item())
    th.same(nn.tensor({3, -2}, "i64") ^ 3, {27, -8})
    local p = 1
    for _ = 1, 40 do p = p * 10 end -- Lua's integers wrap the same way
    assert.equal(p, (nn.tensor({10}, "i64") ^ 40):item())
    th.fails(function() return nn.tensor({0}, "i64") ^ -1 end,
      "integers to negative integer powers are not allowed")
    th.same(nn.tensor{2} ^ -1, {0.5})
  end)

  it("refuse values that do not fit their dtype", function()
    th.fails(function() nn.full({2}, 300, "u8") end,
      "nn.full: value 300 cannot be converted to u8 without overflow")
    th.fails(function() nn.tensor({1, 256}, "u8") end, "element [2]", "256", "u8")
    th.fails(function() nn.zeros(2, "u8"):fill_(-1) end, "value -1")
    th.fails(function() nn.full({1}, 1e300, "i64") end, "to i64 without overflow")
    th.same(nn.full({2}, 255, "u8"), {255, 255})
  end)

  it("convert floats by truncating toward zero, saturating out-of-range values (defined, no UB)",
    function()
    local big, nan, inf = math.maxinteger, 0 / 0, math.huge
    -- i64: NaN is 0, beyond the range the nearest end (PyTorch on x86 gives INT64_MIN for
    -- all three: the processor's "indefinite integer", which relua does not copy)
    assert.same({3, -3, 0, big, math.mininteger, big, math.mininteger, big},
      nn.tensor({3.7, -3.7, nan, inf, -inf, 1e30, -1e30, 2 ^ 63}, "f64"):to("i64"):totable())
    assert.same({big, math.mininteger}, nn.tensor({1e30, -1e30}):long():totable()) -- from f32
    -- u8: the truncated value modulo 256, as PyTorch (300.5 -> 44, -1 -> 255); NaN is 0;
    -- beyond i64's range it saturates first (inf -> 2^63 - 1 -> 255, -inf -> -2^63 -> 0)
    assert.same({44, 255, 255, 0, 0, 255, 0},
      nn.tensor({300.5, -1, 255.9, -0.5, nan, inf, -inf}, "f64"):to("u8"):totable())
  end)

  it("nn.tensor refuses a table with holes", function()
    th.fails(function() nn.tensor({[1] = 1, [3] = 3}) end, "is not a list", "a hole")
    th.fails(function() nn.tensor({{1, 2}, {1, x = 2}}) end, "the table at [2] is not a list")
  end)
end)

describe("optimizers", function()
  it("refuse a parameter listed twice and hyperparameters out of range", function()
    local p = nn.zeros(2):requires_grad_()
    th.fails(function() nn.optim.SGD({p, p}, {lr = 1}) end,
      "nn.optim.SGD: parameter 2 is parameter 1 again")
    th.fails(function() nn.optim.RMSprop({p}, {alpha = 2}) end,
      "nn.optim.RMSprop: alpha must be a number in [0, 1], got 2")
    th.fails(function() nn.optim.AdamW({p}, {weight_decay = -5}) end,
      "nn.optim.AdamW: weight_decay must be a number in [0, inf], got -5")
    th.fails(function() nn.optim.Adam({p}, {betas = {0.9, 1}}) end, "betas[2]")
    local opt = nn.optim.SGD({p}, {lr = 1})
    opt.lr = -1
    th.fails(function() opt:step() end, "lr must be a number in [0, inf], got -1")
  end)
end)

describe("gradient hooks", function()
  it("that refer to their own tensor do not keep it alive", function()
    local alive = setmetatable({}, {__mode = "k"})
    for _ = 1, 200 do
      local x = nn.zeros(10):requires_grad_()
      x:register_hook(function(g) return x end)
      alive[x] = true
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(alive))
  end)

  it("still run when the box they were registered through is gone but the graph holds it",
    function()
      local seen = 0
      local function make(w)
        local h = w * 2
        h:register_hook(function(g) seen = seen + 1 return g * 10 end)
        return h:sum()
      end
      local w = nn.tensor{1, 2}:requires_grad_()
      local loss = make(w)
      collectgarbage()
      collectgarbage()
      loss:backward()
      assert.equal(1, seen)
      th.same(w.grad, {20, 20})
    end)
end)

describe("modules", function()
  it("refuse to contain themselves", function()
    local m = nn.Linear(3, 2)
    th.fails(function() m.child = m end,
      "nn.Linear: cannot add the module itself as child 'child': the module would contain itself")
    local a = nn.Sequential(nn.Linear(2, 2))
    local b = nn.Sequential(a)
    th.fails(function() a.x = b end, "a Sequential that contains it")
    assert.equal(8, m:num_params())
    local shared = nn.Linear(2, 2) -- one child twice is no cycle
    assert.equal(6, nn.Sequential(shared, shared):num_params())
  end)

  it("name a method called with a dot", function()
    local m = nn.Linear(3, 2)
    th.fails(function() m.train() end,
      "nn.Module:train: called with a nil as self (use m:train(...), with a colon)")
    th.fails(function() m.parameters(5) end, "called with a number as self")
  end)
end)

describe("whole numbers stored as floats", function()
  it("are accepted where sizes are taken", function()
    local m = nn.Linear(784 / 2, 10)
    assert.equal(392, m.in_features)
    assert.equal("integer", math.type(m.in_features))
    assert.equal("Linear(in=392, out=10, bias=true)", tostring(m))
    assert.equal(3, nn.RNN(8 / 2, 6 / 2).hidden_size)
    assert.equal(4, #nn.LayerNorm(4.0).weight:totable())
    local n = 0
    for _ in nn.data.loader({nn.zeros(8, 2), nn.zeros(8)}, 8 / 2) do n = n + 1 end
    assert.equal(2, n)
    th.fails(function() nn.Linear(2.5, 3) end, "nn.Linear: in must be a non-negative integer, got 2.5")
  end)
end)

describe("errors name the user's function", function()
  it("for a layer given something else than a tensor", function()
    th.fails(function() nn.Linear(3, 2)(5) end, "nn.Linear: expected a tensor as input, got number (5)")
    th.fails(function() nn.Sequential(nn.ReLU())("a") end, "nn.ReLU: expected a tensor as input")
    assert.equal(5, nn.Identity()(5))
  end)

  it("never an internal one", function()
    local err = th.fails(function() nn.data.idx("/tmp") end, "nn.data.idx: /tmp")
    assert.is_nil(err:find("_load_idx", 1, true))
    th.fails(function() nn.data.csv("/tmp") end, "nn.data.csv: /tmp is a directory")
    err = th.fails(function() nn.save("/nonexistent/dir/x.safetensors", {a = nn.zeros(2)}) end,
      "nn.save: ")
    assert.is_nil(err:find("_save_tensors", 1, true))
    local p = nn.zeros(2):requires_grad_()
    local opt = nn.optim.Adam({p})
    opt.state[1] = {step = 0, exp_avg = nn.zeros(3), exp_avg_sq = nn.zeros(3)}
    p.grad = nn.ones(2)
    err = th.fails(function() opt:step() end, "nn.optim.Adam:step: ")
    assert.is_nil(err:find("_adam_step", 1, true))
  end)
end)

describe("nn.save", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/real"))
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("writes through a symbolic link to its target, which stays a link", function()
    assert(os.execute("ln -s real/m.safetensors " .. dir .. "/link.safetensors"))
    nn.save(dir .. "/link.safetensors", {a = nn.tensor{1, 2}})
    th.same(nn.load(dir .. "/real/m.safetensors").a, {1, 2})
    local p = io.popen("find " .. dir .. "/link.safetensors -type l")
    assert.equal(dir .. "/link.safetensors", p:read("l"))
    p:close()
  end)

  it("refuses targets that are not regular files", function()
    assert(os.execute("ln -s /dev/null " .. dir .. "/null.safetensors"))
    th.fails(function() nn.save(dir .. "/null.safetensors", {a = nn.ones(1)}) end,
      "not a regular file (a device, pipe or socket)")
    th.fails(function() nn.save(dir .. "/real", {a = nn.ones(1)}) end, "(a directory)")
  end)

  it("removes the temporaries of writers that were killed, keeps a live one's", function()
    local p = io.popen("sh -c 'echo $$'")
    local dead = p:read("n")
    p:close()
    local stale = string.format("%s/m.safetensors.tmp.%d", dir, dead)
    local mine = dir .. "/m.safetensors.tmp.1" -- pid 1 is alive
    for _, f in ipairs{stale, mine} do io.open(f, "w"):close() end
    nn.save(dir .. "/m.safetensors", {a = nn.ones(1)})
    assert.is_nil(io.open(stale))
    assert.is_truthy(io.open(mine))
  end)
end)

describe("nn.Function", function()
  it("keeps an input that its forward closes alive for the graph", function()
    local F = nn.Function{name = "Closer",
      forward = function(ctx, x) local a <close> = x return a * 2 end,
      backward = function(ctx, g) return g * 2 end}
    local x = nn.tensor{1, 2}:requires_grad_()
    local y = F(x)
    th.same(y, {2, 4})
    y:sum():backward() -- reached the closed input's tensor without touching freed memory
    th.fails(function() return x.grad end, "tensor was closed")
    local G = nn.Function{name = "Closer2",
      forward = function(ctx, v) do local c <close> = v end return nn.ones(2) end,
      backward = function(ctx, g) return g end}
    local v = nn.tensor{1, 2}:requires_grad_()
    th.same(G(v), {1, 1})
    collectgarbage()
  end)
end)

describe("nn.detect_anomaly", function()
  after_each(function() nn.detect_anomaly(false) end)
  it("reads each element of an expanded view's memory once (2^61 elements at once)", function()
    nn.detect_anomaly(true)
    -- expand is an op: its output is scanned; stride-0 dims are read once, so this is
    -- instant instead of 2^62 reads
    local x = nn.ones(1, 1):expand(2 ^ 31, 2 ^ 31):t():narrow(1, 5, 2 ^ 30)
    assert.equal(2 ^ 61, x:numel())
    -- an infinity carried from expand's input is no anomaly of expand's (both are scanned)
    assert.equal(2 ^ 40, nn.tensor({1 / 0}):expand(2 ^ 40):numel())
  end)

  it("names the first op that makes a NaN or an infinity, forward or backward", function()
    assert.is_false(nn.detect_anomaly(true))
    th.fails(function() nn.log(nn.tensor{1, 0}) end,
      "nn.log: detect_anomaly: log produced inf in its output (from finite inputs)")
    th.fails(function() return nn.tensor{1} / nn.tensor{0} end, "div produced inf")
    -- carried from an input that already held it: not this op's doing
    th.same(nn.exp(nn.tensor{0, 0 / 0}), {1, 0 / 0})
    local x = nn.tensor{1, 4}:requires_grad_()
    local y = nn.sqrt(x - 1):sum()
    th.fails(function() y:backward() end,
      "detect_anomaly: the backward of sqrt produced inf in the gradient of its input 1")
    assert.is_true(nn.detect_anomaly(false))
    th.same(nn.log(nn.tensor{1}), {0}) -- off again
    assert.equal(-math.huge, nn.log(nn.tensor{0}):item())
  end)
end)

describe("indices and counts near 2^63", function()
  it("are refused with the value the user gave", function()
    local mi = math.mininteger
    th.fails(function() nn.zeros(2, 3):gather(1, nn.tensor({{mi, 1, 1}}, "i64")) end,
      "index " .. mi .. " is out of range")
    th.fails(function() nn.cross_entropy(nn.zeros(1, 3), nn.tensor({mi}, "i64")) end,
      "target " .. mi .. " is out of range for 3 classes")
    th.fails(function() nn.one_hot(nn.tensor({mi}, "i64"), 3) end, "class " .. mi)
    th.fails(function() nn.zeros(2, 3):repeat_interleave(2 ^ 62, 1) end,
      "repeats add up to more than 2^63")
    assert.equal(2, #nn.zeros(2, 3):chunk(math.maxinteger, 1)) -- pieces of 1 row, as PyTorch
  end)
end)

describe("clamp of integer tensors", function()
  it("saturates bounds outside the dtype's range instead of casting them", function()
    local x = nn.tensor({0, 5, 200}, "u8")
    assert.same({0, 5, 100}, x:clamp(-100, 100):totable())
    assert.same({0, 0, 0}, x:clamp(-100, -50):totable())
    assert.same({255, 255, 255}, x:clamp(300, 400):totable())
    assert.same({-3, 7}, nn.tensor({-3, 7}, "i64"):clamp(-1e300, 1e300):totable())
  end)
end)
