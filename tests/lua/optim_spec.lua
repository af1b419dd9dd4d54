-- tests/lua/optim_spec.lua: optimizers against steps computed by hand, state dicts, schedules.

-- a parameter p = values whose gradient will be g: loss = sum(p * g)
local function param(values)
  return nn.tensor(values):requires_grad_(true)
end

local function backward(p, g)
  (p * nn.tensor(g)):sum():backward()
end

-- runs opt for the gradients listed (one table per step), returns p's values
local function run(make_opt, p0, grads)
  local p = param(p0)
  local opt = make_opt({p})
  for _, g in ipairs(grads) do
    opt:zero_grad()
    backward(p, g)
    opt:step()
  end
  return p:totable(), opt, p
end

-- Adam by the book, in plain Lua (decoupled = AdamW)
local function adam_ref(p, grads, o)
  p = {table.unpack(p)}
  local b1, b2 = o.betas[1], o.betas[2]
  local m, v = {}, {}
  for t, g in ipairs(grads) do
    for i = 1, #p do
      local gi = g[i]
      if o.decoupled then p[i] = p[i] * (1 - o.lr * o.wd) else gi = gi + o.wd * p[i] end
      m[i] = b1 * (m[i] or 0) + (1 - b1) * gi
      v[i] = b2 * (v[i] or 0) + (1 - b2) * gi * gi
      local mhat, vhat = m[i] / (1 - b1 ^ t), v[i] / (1 - b2 ^ t)
      p[i] = p[i] - o.lr * mhat / (math.sqrt(vhat) + o.eps)
    end
  end
  return p
end

-- RMSprop by the book (PyTorch's algorithm), in plain Lua
local function rmsprop_ref(p, grads, o)
  p = {table.unpack(p)}
  local v, gavg, buf = {}, {}, {}
  for _, g in ipairs(grads) do
    for i = 1, #p do
      local gi = g[i] + (o.wd or 0) * p[i]
      v[i] = o.alpha * (v[i] or 0) + (1 - o.alpha) * gi * gi
      local avg
      if o.centered then
        gavg[i] = o.alpha * (gavg[i] or 0) + (1 - o.alpha) * gi
        avg = math.sqrt(v[i] - gavg[i] * gavg[i]) + o.eps
      else
        avg = math.sqrt(v[i]) + o.eps
      end
      if (o.momentum or 0) > 0 then
        buf[i] = o.momentum * (buf[i] or 0) + gi / avg
        p[i] = p[i] - o.lr * buf[i]
      else
        p[i] = p[i] - o.lr * gi / avg
      end
    end
  end
  return p
end

local grads = {{0.5, -1, 2}, {0.1, 0.3, -0.2}, {-1, 1, 0.05}}
local p0 = {1, -2, 0.5}

describe("nn.optim", function()
  it("SGD takes plain steps", function()
    local got = run(function(ps) return nn.optim.SGD(ps, {lr = 0.1}) end, p0, {grads[1]})
    th.same(nn.tensor(got), {1 - 0.05, -2 + 0.1, 0.5 - 0.2}, 1e-6)
  end)

  it("SGD with momentum, nesterov and weight decay", function()
    local g = {1, 1, 1}
    local got = run(function(ps) return nn.optim.SGD(ps, {lr = 0.1, momentum = 0.9}) end,
      {0, 0, 0}, {g, g})
    th.same(nn.tensor(got), {-0.29, -0.29, -0.29}, 1e-6) -- buf g, then 1.9 g
    got = run(function(ps) return nn.optim.SGD(ps, {lr = 0.1, momentum = 0.9, nesterov = true}) end,
      {0, 0, 0}, {g, g})
    th.same(nn.tensor(got), {-0.19 - 0.271, -0.461, -0.461}, 1e-6) -- 1.9 g, then 2.71 g
    got = run(function(ps) return nn.optim.SGD(ps, {lr = 0.1, weight_decay = 0.5}) end,
      {2, 2, 2}, {g})
    th.same(nn.tensor(got), {2 - 0.1 * 2, 1.8, 1.8}, 1e-6)
  end)

  it("Adam and AdamW follow the formulas", function()
    local got = run(function(ps) return nn.optim.Adam(ps, {lr = 0.01}) end, p0, grads)
    th.same(nn.tensor(got), adam_ref(p0, grads,
      {lr = 0.01, betas = {0.9, 0.999}, eps = 1e-8, wd = 0}), 1e-5)
    got = run(function(ps) return nn.optim.Adam(ps, {lr = 0.01, betas = {0.5, 0.9},
      weight_decay = 0.1}) end, p0, grads)
    th.same(nn.tensor(got), adam_ref(p0, grads,
      {lr = 0.01, betas = {0.5, 0.9}, eps = 1e-8, wd = 0.1}), 1e-5)
    got = run(function(ps) return nn.optim.AdamW(ps, {lr = 0.01}) end, p0, grads)
    th.same(nn.tensor(got), adam_ref(p0, grads,
      {lr = 0.01, betas = {0.9, 0.999}, eps = 1e-8, wd = 1e-2, decoupled = true}), 1e-5)
  end)

  it("RMSprop divides by the root mean square", function()
    local got = run(function(ps) return nn.optim.RMSprop(ps, {lr = 0.01}) end, p0, {grads[1]})
    local want = {}
    for i, g in ipairs(grads[1]) do
      want[i] = p0[i] - 0.01 * g / (math.sqrt(0.01 * g * g) + 1e-8)
    end
    th.same(nn.tensor(got), want, 1e-5)
    -- centered with momentum, over three steps, against the formula
    got = run(function(ps) return nn.optim.RMSprop(ps, {lr = 0.01, momentum = 0.9,
      centered = true}) end, p0, grads)
    th.same(nn.tensor(got), rmsprop_ref(p0, grads,
      {lr = 0.01, alpha = 0.99, eps = 1e-8, momentum = 0.9, centered = true}), 1e-5)
    -- and the plain one over three steps with another alpha and weight decay
    got = run(function(ps) return nn.optim.RMSprop(ps, {lr = 0.02, alpha = 0.9,
      weight_decay = 0.1}) end, p0, grads)
    th.same(nn.tensor(got), rmsprop_ref(p0, grads,
      {lr = 0.02, alpha = 0.9, eps = 1e-8, wd = 0.1}), 1e-5)
  end)

  it("skips parameters without gradients; lr is a plain field", function()
    local a, b = param({1, 2}), param({3, 4})
    local opt = nn.optim.SGD({a, b}, {lr = 1})
    backward(a, {1, 1})
    opt:step()
    th.same(a, {0, 1})
    th.same(b, {3, 4})
    assert.is_nil(opt.state[2])
    opt.lr = 0
    opt:step()
    th.same(a, {0, 1})
    opt:zero_grad()
    assert.is_nil(a.grad)
  end)

  it("takes a module's parameters", function()
    local m = nn.Linear(3, 2)
    local opt = nn.optim.Adam(m, {lr = 0.1})
    assert.equal(2, #opt.params)
    local before = m.weight:clone()
    m(nn.randn(4, 3)):sum():backward()
    opt:step()
    assert.is_true((m.weight - before):abs():max():item() > 0.05)
    assert.equal(1, opt.state[1].step)
  end)

  it("saves and restores its state", function()
    local _, opt, p = run(function(ps) return nn.optim.Adam(ps, {lr = 0.01}) end, p0,
      {grads[1], grads[2]})
    local q = param(p:totable())
    local copy = nn.optim.Adam({q}, {lr = 0.5})
    copy:load_state_dict(opt:state_dict())
    assert.equal(0.01, copy.lr)
    assert.equal(2, copy.state[1].step)
    for _, pair in ipairs({{opt, p}, {copy, q}}) do
      pair[1]:zero_grad()
      backward(pair[2], grads[3])
      pair[1]:step()
    end
    th.same(q, p:totable(), 1e-7)
    th.same(q, adam_ref(p0, grads, {lr = 0.01, betas = {0.9, 0.999}, eps = 1e-8, wd = 0}), 1e-5)
  end)

  it("rejects bad arguments", function()
    th.fails(function() nn.optim.SGD({}, {lr = 1}) end,
      "nn.optim.SGD: the list of parameters is empty")
    th.fails(function() nn.optim.Adam({nn.zeros(2)}, {learning_rate = 1}) end,
      "nn.optim.Adam: unknown option 'learning_rate'")
    th.fails(function() nn.optim.SGD({nn.zeros(2, "i64")}) end, "parameter 1 is i64")
    th.fails(function() nn.optim.SGD({nn.zeros(2)}, {lr = -1}) end, "lr must be")
  end)
end)

describe("nn.optim.schedule", function()
  local function lrs(make, n)
    local opt = nn.optim.SGD({nn.zeros(1)}, {lr = 1})
    local sched = make(opt)
    local out = {opt.lr}
    for i = 1, n do out[i + 1] = sched:step() end
    return out
  end

  it("linear: warmup, then decay to 0", function()
    local linear = nn.optim.schedule.linear
    th.same(nn.tensor(lrs(function(o) return linear(o, {warmup = 2, total = 6}) end, 7)),
      {0.5, 1, 1, 0.75, 0.5, 0.25, 0, 0})
    th.same(nn.tensor(lrs(function(o) return linear(o, {total = 4}) end, 4)),
      {1, 0.75, 0.5, 0.25, 0})
  end)

  it("cosine: half a cosine down to min_lr", function()
    local c = math.cos(math.pi / 4)
    local cosine = nn.optim.schedule.cosine
    th.same(nn.tensor(lrs(function(o) return cosine(o, {total = 4, min_lr = 0.1}) end, 5)),
      {1, 0.1 + 0.9 * (1 + c) / 2, 0.55, 0.1 + 0.9 * (1 - c) / 2, 0.1, 0.1})
  end)

  it("step: gamma every step_size", function()
    local step = nn.optim.schedule.step
    th.same(nn.tensor(lrs(function(o) return step(o, {step_size = 2, gamma = 0.5}) end, 4)),
      {1, 1, 0.5, 0.5, 0.25})
  end)

  it("checks its options", function()
    local opt = nn.optim.SGD({nn.zeros(1)}, {lr = 1})
    th.fails(function() nn.optim.schedule.linear(opt, {}) end, "schedule.linear: total must be")
    th.fails(function() nn.optim.schedule.cosine(opt, {total = 3, warmup = 3}) end,
      "warmup must be")
  end)
end)

describe("AMSGrad", function()
  it("keeps the running maximum of the second moment and steps by it", function()
    local function run(amsgrad)
      nn.manual_seed(1)
      local m = nn.Linear(3, 2):double()
      local opt = nn.optim.Adam(m, {lr = 0.1, amsgrad = amsgrad})
      local x = nn.randn(8, 3):double()
      for i = 1, 30 do -- shrinking gradients: the second moment falls below its maximum
        opt:zero_grad();
        ((m(x) * (1 / i)) ^ 2):sum():backward()
        opt:step()
      end
      return m, opt
    end
    local m, opt = run(true)
    local plain = run(false)
    local st = opt.state[1] -- the weight, the first parameter
    assert.is_true(nn.is_tensor(st.max_exp_avg_sq))
    assert.is_true((st.max_exp_avg_sq - st.exp_avg_sq):min():item() >= 0)
    assert.is_true((st.max_exp_avg_sq - st.exp_avg_sq):max():item() > 0)
    assert.is_true((m.weight - plain.weight):abs():max():item() > 1e-4)
    th.fails(function() nn.optim.Adam(m, {amsgard = true}) end, "did you mean amsgrad?")
  end)
end)
