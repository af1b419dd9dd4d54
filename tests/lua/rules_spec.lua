-- tests/lua/rules_spec.lua: nn.rules. Each rule computes its defining update on a tiny
-- 3-4-2 tanh network in f64 (its p.grad against the update written out by hand with plain
-- tensor ops), reports per-layer angles against the true gradient, trains with nn.fit, and
-- refuses a model or options it cannot use with an error naming the rule.

-- a 3-4-2 network in f64 and a batch of 5
local function tiny()
  nn.manual_seed(7)
  local m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)):double()
  local x = nn.randn(5, 3):double()
  local y = nn.tensor({1, 2, 2, 1, 2}):long()
  return m, x, y
end

-- the forward pass and the output error e = dL/dy^ of the mean cross-entropy, by hand
local function forward(m, x, y)
  local w1, b1, w2, b2 = m[1].weight, m[1].bias, m[3].weight, m[3].bias
  local h1 = nn.no_grad(function() return (x:mm(w1:t()) + b1):tanh() end)
  local a2 = nn.no_grad(function() return h1:mm(w2:t()) + b2 end)
  local e = (nn.softmax(a2, 2) - nn.one_hot(y, 2):double()) / x:size(1)
  return h1, e
end

-- the updates of the four parameters given the error delta1 reaching the hidden layer
local function updates(x, h1, e, back)
  local d1 = back * (1 - h1 * h1)
  return {d1:t():mm(x), d1:sum(1), e:t():mm(h1), e:sum(1)}
end

local function grads_of(m)
  return {m[1].weight.grad, m[1].bias.grad, m[3].weight.grad, m[3].bias.grad}
end

local function same_tensors(got, want)
  for i = 1, #want do
    assert(got[i], "no gradient for parameter " .. i)
    th.same(got[i], want[i]:totable(), 1e-10)
  end
end

-- points on either side of a line: easy for any rule
local function line_data(n)
  nn.manual_seed(3)
  local x = nn.randn(n, 2)
  local y = (x:select(2, 1):gt(x:select(2, 2)):long() + 1)
  return x, y
end

local function trains(name, opts)
  local x, y = line_data(256)
  nn.manual_seed(5)
  local model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
    nn.Linear(16, 2))
  local opt = {lr = 0.02}
  for k, v in pairs(opts or {}) do opt[k] = v end
  local r = nn.rules[name](model, opt)
  local h = nn.fit(model, {x, y}, {rule = r, epochs = 8, batch = 32, progress = false,
    val = {x, y}})
  assert.is_true(h.train_loss[8] < 0.6 * h.train_loss[1], name .. " did not learn")
  assert.is_true(h.val_acc[8] >= 0.9, name .. " accuracy " .. h.val_acc[8])
  return r, model, x, y
end

describe("nn.rules.backprop", function()
  it("computes the true gradient and its angles are 0", function()
    local m, x, y = tiny()
    local r = nn.rules.backprop(m)
    m:zero_grad()
    local loss = r:gradients(x, y)
    local h1, e = forward(m, x, y)
    same_tensors(grads_of(m), updates(x, h1, e, e:mm(m[3].weight:detach())))
    assert.near(nn.cross_entropy(m(x), y):item(), loss, 1e-12)
    local a = r:angles(x, y)
    assert.near(0, a["0"], 1e-4)
    assert.near(0, a["2"], 1e-4)
  end)
  it("trains with nn.fit and steps its optimizer", function()
    local r = trains("backprop")
    assert.equal("Adam", r.optim.name)
  end)
end)

describe("nn.rules.feedback_alignment", function()
  it("sends the error back through its fixed B, not W^T", function()
    local m, x, y = tiny()
    local r = nn.rules.feedback_alignment(m, {seed = 1})
    local B = m[3].feedback
    assert.same({2, 4}, B:shape())
    assert.same({4, 3}, m[1].feedback:shape())
    m:zero_grad()
    r:gradients(x, y)
    local h1, e = forward(m, x, y)
    same_tensors(grads_of(m), updates(x, h1, e, e:mm(B)))
    -- the layers compute as usual outside the rule's step
    m:zero_grad()
    nn.cross_entropy(m(x), y):backward()
    same_tensors(grads_of(m), updates(x, h1, e, e:mm(m[3].weight:detach())))
  end)
  it("reports per-layer angles: the last layer's is 0, the hidden one's the angle of its update",
    function()
      local m, x, y = tiny()
      local r = nn.rules.feedback_alignment(m, {seed = 1})
      local a = r:angles(x, y)
      assert.near(0, a["2"], 1e-4)
      local h1, e = forward(m, x, y)
      local fa = updates(x, h1, e, e:mm(m[3].feedback))[1]
      local bp = updates(x, h1, e, e:mm(m[3].weight:detach()))[1]
      assert.near(nn.rules.angle(fa, bp), a["0"], 1e-6)
      assert.is_true(a["0"] > 1 and a["0"] < 179)
      assert.is_nil(m[1].weight.grad) -- angles leave the gradients as they were
    end)
  it("draws B from its seed, leaves the global stream alone, and saves B with the model",
    function()
      local m1 = tiny()
      nn.manual_seed(42)
      nn.rules.feedback_alignment(m1, {seed = 9})
      local after = nn.rand(1):item()
      nn.manual_seed(42)
      assert.equal(nn.rand(1):item(), after)
      local m2 = tiny()
      nn.rules.feedback_alignment(m2, {seed = 9})
      th.same(m2[3].feedback, m1[3].feedback:totable(), 0)
      local path = os.tmpname()
      nn.save(path, m1)
      local sd = nn.load(path)
      os.remove(path)
      assert.truthy(sd["2.feedback"])
      local m3 = tiny()
      nn.rules.feedback_alignment(m3, {seed = 10})
      m3:load_state_dict(sd)
      th.same(m3[3].feedback, m1[3].feedback:totable(), 0)
      -- a rule made on a model that has its feedback keeps it
      nn.rules.feedback_alignment(m3, {seed = 11})
      th.same(m3[3].feedback, m1[3].feedback:totable(), 0)
    end)
  it("trains with nn.fit", function()
    trains("feedback_alignment", {seed = 2})
  end)
  it("needs a Linear layer", function()
    th.fails(function() nn.rules.feedback_alignment(nn.Sequential(nn.ReLU())) end,
      "nn.rules.feedback_alignment:", "no nn.Linear layer")
    th.fails(function() nn.rules.feedback_alignment(nn.Linear(2, 2), {seed = 1.5}) end,
      "nn.rules.feedback_alignment:", "seed must be an integer")
    th.fails(function() nn.rules.feedback_alignment({}) end,
      "nn.rules.feedback_alignment:", "expected a model")
  end)
end)

describe("nn.rules.dfa", function()
  it("sends the output error to the hidden layer through its fixed B", function()
    local m, x, y = tiny()
    local r = nn.rules.dfa(m, {seed = 4})
    local B = m[1].direct_feedback
    assert.same({4, 2}, B:shape())
    assert.is_nil(rawget(m[3], "direct_feedback")) -- the last layer needs none
    m:zero_grad()
    local loss = r:gradients(x, y)
    local h1, e = forward(m, x, y)
    same_tensors(grads_of(m), updates(x, h1, e, e:mm(B:t())))
    assert.near(nn.cross_entropy(m(x), y):item(), loss, 1e-12)
  end)
  it("sends e to every hidden layer directly in a deeper network", function()
    nn.manual_seed(8)
    local m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 5), nn.Tanh()),
      nn.Linear(5, 2)):double()
    local x, y = nn.randn(6, 3):double(), nn.tensor({1, 2, 1, 1, 2, 2}):long()
    local r = nn.rules.dfa(m, {seed = 4})
    m:zero_grad()
    r:gradients(x, y)
    local w1, w2, w3 = m[1].weight, m[3][1].weight, m[4].weight
    local a1, h1, h2, e = nn.no_grad(function()
      local a1 = x:mm(w1:t()) + m[1].bias
      local h1 = a1:relu()
      local h2 = (h1:mm(w2:t()) + m[3][1].bias):tanh()
      local out = h2:mm(w3:t()) + m[4].bias
      return a1, h1, h2, (nn.softmax(out, 2) - nn.one_hot(y, 2):double()) / 6
    end)
    local d2 = e:mm(m[3][1].direct_feedback:t()) * (1 - h2 * h2)
    local d1 = e:mm(m[1].direct_feedback:t()) * a1:gt(0):double()
    th.same(w3.grad, e:t():mm(h2):totable(), 1e-10)
    th.same(w2.grad, d2:t():mm(h1):totable(), 1e-10)
    th.same(w1.grad, d1:t():mm(x):totable(), 1e-10)
    th.same(m[1].bias.grad, d1:sum(1):totable(), 1e-10)
    local a = r:angles(x, y)
    assert.near(0, a["3"], 1e-4)
    assert.is_true(a["0"] > 0 and a["2.0"] > 0)
  end)
  it("trains with nn.fit", function()
    trains("dfa", {seed = 2})
  end)
  it("needs a loss function and a Sequential of Linear layers", function()
    local m = tiny()
    th.fails(function() nn.rules.dfa(m, {loss = "mse"}) end, "nn.rules.dfa:",
      "needs a loss function", "mse")
    th.fails(function() nn.rules.dfa(m, {loss = false}) end, "nn.rules.dfa:", "needs a loss")
    th.fails(function() nn.rules.dfa(nn.Linear(2, 2)) end, "nn.rules.dfa:",
      "needs an nn.Sequential")
    th.fails(function() nn.rules.dfa(nn.Sequential(nn.Tanh())) end, "nn.rules.dfa:",
      "no nn.Linear")
    th.fails(function() nn.rules.dfa(m, {optim = 3}) end, "nn.rules.dfa:", "opts.optim")
  end)
end)

describe("nn.rules.pfa", function()
  it("sends the error back through (g B) R and learns R by (g B)^T h", function()
    local m, x, y = tiny()
    local r = nn.rules.pfa(m, {seed = 2, expansion = 2})
    local B, Rm = m[3].product_feedback, m[3].product_feedback_R
    assert.same({2, 4}, B:shape())
    assert.same({4, 4}, Rm:shape())
    assert.is_nil(rawget(m[1], "product_feedback")) -- the first layer's input needs no error
    th.same(Rm, nn.zeros(4, 4):totable(), 0)          -- R starts at 0
    nn.no_grad(function() Rm:copy_(nn.randn(4, 4):double()) end)
    m:zero_grad()
    r:gradients(x, y)
    local h1, e = forward(m, x, y)
    same_tensors(grads_of(m), updates(x, h1, e, e:mm(B):mm(Rm:detach())))
    th.same(Rm.grad, e:mm(B):t():mm(h1):totable(), 1e-10)
    assert.equal(5, #r.optim.params) -- the model's four and R
  end)
  it("trains with nn.fit, and its feedback aligns: the hidden angle falls well below 90",
    function()
      local r, _, x, y = trains("pfa", {seed = 2})
      local a = r:angles(x, y)
      assert.is_true(a["2"] < 60 and a["0"] < 80, string.format("%g %g", a["0"], a["2"]))
    end)
  it("needs a positive expansion", function()
    th.fails(function() nn.rules.pfa(tiny(), {expansion = 0}) end, "nn.rules.pfa:",
      "expansion must be a positive number")
  end)
end)

describe("nn.rules.pepita", function()
  it("updates from two forward passes, the second on x + e F^T", function()
    local m, x, y = tiny()
    local r = nn.rules.pepita(m, {seed = 5, F_scale = 0.5})
    local F = m[1].top_down_feedback
    assert.same({3, 2}, F:shape())
    local bound = 0.5 * math.sqrt(6 / 3)
    assert.is_true(F:abs():max():item() <= bound and F:abs():max():item() > 0.1 * bound)
    m:zero_grad()
    r:gradients(x, y)
    local h1, e = forward(m, x, y)
    e = e * 5 -- per example
    local xmod = x + e:mm(F:t())
    local h1m, em = forward(m, xmod, y)
    em = em * 5
    local d1 = h1 - h1m
    same_tensors(grads_of(m), {d1:t():mm(xmod) / 5, d1:mean(1), em:t():mm(h1m) / 5, em:mean(1)})
  end)
  it("trains with nn.fit", function()
    trains("pepita", {seed = 2})
  end)
  it("needs a Sequential that starts with a Linear", function()
    th.fails(function() nn.rules.pepita(nn.Sequential(nn.ReLU(), nn.Linear(2, 2))) end,
      "nn.rules.pepita:", "must start with an nn.Linear")
  end)
end)

describe("nn.rules options", function()
  it("names the rule and the option it does not know", function()
    th.fails(function() nn.rules.dfa(tiny(), {sede = 1}) end, "nn.rules.dfa:",
      "unknown option 'sede'", "seed")
    th.fails(function() nn.rules.pepita(tiny(), {F_scael = 1}) end, "nn.rules.pepita:",
      "F_scael")
  end)
end)
