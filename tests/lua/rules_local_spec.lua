-- tests/lua/rules_local_spec.lua: the local and forward-only rules (forward_forward,
-- predictive_coding, forward_gradient) compute their defining updates, checked in f64 against
-- the same updates written out with plain tensor ops; and they train.

local function maxdiff(a, b) return (a - b):abs():max():item() end

local function mlp(sizes, act, last_act)
  local mods = {}
  for i = 1, #sizes - 1 do
    mods[#mods + 1] = nn.Linear(sizes[i], sizes[i + 1])
    if i < #sizes - 1 or last_act then mods[#mods + 1] = act() end
  end
  return nn.Sequential(mods):double()
end

-- ---- forward-forward, written with ops ----

local function unit_rms(x)
  return x / ((x * x):mean(2, true):sqrt() + 1e-6)
end

-- one layer's goodness and loss (rows 1..npos positive), as nn._ff_layer defines them
local function ff_layer_ops(x, w, b, off, theta, npos, mean)
  local y = nn.linear(unit_rms(x), w, b):relu()
  local g = (y * y):sum(2):view(-1)
  if mean then g = g / y:size(2) end
  local z = g - theta
  if off then z = z + off end
  local m = x:size(1)
  local sign = nn.cat({nn.ones(npos):double(), -nn.ones(m - npos):double()})
  local t = -(sign * z)
  local loss = ((t:exp() + 1):log()):mean()
  return y, g, loss
end

local function overlay(x, y, C, value)
  local out = x:clone()
  out:narrow(2, 1, C):copy_(nn.one_hot(y, C):double() * (value or 1))
  return out
end

describe("nn._ff_layer", function()
  for _, case in ipairs{{mean = true, off = false}, {mean = false, off = true}} do
    it("gives the gradient of its loss written with ops (f64, mean=" .. tostring(case.mean)
      .. ", offset=" .. tostring(case.off) .. ")", function()
      nn.manual_seed(3)
      local x = nn.rand(9, 7):double()
      local w = nn.randn(5, 7):double():requires_grad_()
      local b = (nn.randn(5):double() * 0.1):requires_grad_()
      local off = case.off and nn.rand(9):double() or nil
      local theta, npos = case.mean and 0.5 or 2, 4
      local yr, gr, lr = ff_layer_ops(x, w, b, off, theta, npos, case.mean)
      local dwr = nn.grad(lr, {w, b})
      local y, g = nn.empty(9, 5):double(), nn.empty(9):double()
      local dw, db = nn.empty(5, 7):double(), nn.empty(5):double()
      local loss = nn._ff_layer(x, w, b, off, {theta = theta, npos = npos, mean = case.mean},
        y, g, dw, db)
      assert.is_true(math.abs(loss - lr:item()) < 1e-12)
      assert.is_true(maxdiff(y, yr) < 1e-12 and maxdiff(g, gr) < 1e-12)
      assert.is_true(maxdiff(dw, dwr[1]) < 1e-12, "dW off by " .. maxdiff(dw, dwr[1]))
      assert.is_true(maxdiff(db, dwr[2]) < 1e-12, "db off by " .. maxdiff(db, dwr[2]))
    end)
  end

  it("checks shapes and dtypes", function()
    local x, w = nn.rand(3, 4):double(), nn.rand(2, 4):double()
    th.fails(function() nn._ff_layer(x, w, nil, nil, {}, nn.empty(3, 3):double(), nn.empty(3):double()) end,
      "nn._ff_layer: y has shape {3,3}, expected {3,2}")
    th.fails(function() nn._ff_layer(x:float(), w, nil, nil, {}, nn.empty(3, 2):double(), nn.empty(3):double()) end,
      "nn._ff_layer: x is f32, expected f64")
  end)
end)

describe("nn.rules.forward_forward", function()
  local C = 3

  it("gives each layer the gradient of its own goodness loss on positive and negative data",
    function()
    for _, collab in ipairs{false, true} do
      nn.manual_seed(5)
      local model = mlp({8, 6, 5}, nn.ReLU, true)
      local r = nn.rules.forward_forward(model, {classes = C, threshold = 0.3,
        collaborative = collab})
      local x, y = nn.rand(4, 8):double(), nn.randint(1, C, {4})
      nn.manual_seed(11)
      model:zero_grad()
      local loss = r:gradients(x, y)
      nn.manual_seed(11) -- the same wrong labels again
      local s = y + nn.randint(1, C - 1, {4})
      local wrong = s - s:gt(C):to("i64") * C
      assert.are.equal(4, wrong:ne(y):sum():item())
      local h = nn.cat({overlay(x, y, C), overlay(x, wrong, C)}, 1)
      local l1, l2 = model[1], model[3]
      local y1, g1 = ff_layer_ops(h, l1.weight, l1.bias, nil, 0.3, 4, true)
      local _, g2 = ff_layer_ops(y1:detach(), l2.weight, l2.bias, nil, 0.3, 4, true)
      local o1 = collab and g2:detach() or nil
      local o2 = collab and g1:detach() or nil
      local _, _, loss1 = ff_layer_ops(h, l1.weight, l1.bias, o1, 0.3, 4, true)
      local _, _, loss2 = ff_layer_ops(y1:detach(), l2.weight, l2.bias, o2, 0.3, 4, true)
      local g = nn.grad(loss1, {l1.weight, l1.bias})
      local gg = nn.grad(loss2, {l2.weight, l2.bias})
      assert.is_true(math.abs(loss - (loss1:item() + loss2:item()) / 2) < 1e-12)
      assert.is_true(maxdiff(l1.weight.grad, g[1]) < 1e-12 and maxdiff(l1.bias.grad, g[2]) < 1e-12)
      assert.is_true(maxdiff(l2.weight.grad, gg[1]) < 1e-12 and maxdiff(l2.bias.grad, gg[2]) < 1e-12)
    end
  end)

  it("predicts the label of the largest goodness over the layers from the second", function()
    nn.manual_seed(6)
    local model = mlp({8, 6, 5}, nn.ReLU, true)
    local r = nn.rules.forward_forward(model, {classes = C, label_value = 3, first_scored = 2})
    local x = nn.rand(5, 8):double()
    local cols = {}
    for c = 1, C do
      local xc = overlay(x, nn.full({5}, c, "i64"), C, 3)
      local y1 = nn.linear(unit_rms(xc), model[1].weight, model[1].bias):relu()
      local y2 = nn.linear(unit_rms(y1), model[3].weight, model[3].bias):relu()
      cols[c] = (y2 * y2):mean(2):view(-1)
    end
    local want = nn.stack(cols, 2)
    assert.is_true(maxdiff(r:scores(x), want) < 1e-10)
    assert.are.equal(5, r:predict(x):eq(want:argmax(2)):sum():item())
    r.first_scored = 1 -- the default with two layers: both count
    for c = 1, C do
      local xc = overlay(x, nn.full({5}, c, "i64"), C, 3)
      local y1 = nn.linear(unit_rms(xc), model[1].weight, model[1].bias):relu()
      cols[c] = cols[c] + (y1 * y1):mean(2):view(-1)
    end
    assert.is_true(maxdiff(r:scores(x), nn.stack(cols, 2)) < 1e-10)
    assert.are.equal(1, nn.rules.forward_forward(model, {classes = C}).first_scored)
    local ang, msg = r:angles(x, nn.randint(1, C, {5}))
    assert.are.same({}, ang)
    assert.is_truthy(msg:find("no global loss", 1, true))
  end)

  it("trains with nn.fit", function()
    nn.manual_seed(7)
    local n, d = 600, 24
    local y = nn.randint(1, C, {n})
    local protos = nn.rand(C, d):double()
    protos:narrow(2, 1, C):fill_(0)
    local x = (nn.one_hot(y, C):double():matmul(protos) + nn.rand(n, d):double() * 0.3)
    x:narrow(2, 1, C):fill_(0)
    local model = mlp({d, 40, 40}, nn.ReLU, true)
    local r = nn.rules.forward_forward(model, {classes = C,
      optim = nn.optim.Adam(model, {lr = 0.01})})
    local before = r:predict(x):eq(y):double():mean():item()
    local h = nn.fit(model, {x, y}, {epochs = 15, batch = 32, rule = r, progress = false})
    local after = r:predict(x):eq(y):double():mean():item()
    assert.is_true(h.train_loss[15] < h.train_loss[1])
    assert.is_true(after > 0.9, "accuracy " .. after .. " (before " .. before .. ")")
  end)

  it("names itself in errors about the model and the input", function()
    th.fails(function() nn.rules.forward_forward(nn.Sequential(nn.Flatten(), nn.Linear(4, 2), nn.ReLU())) end,
      "nn.rules.forward_forward: the model's input must be a flat vector")
    th.fails(function() nn.rules.forward_forward(nn.Sequential(nn.ReLU())) end,
      "nn.rules.forward_forward: the model has no nn.Linear layer")
    th.fails(function() nn.rules.forward_forward(nn.Sequential(nn.Linear(12, 2))) end,
      "nn.rules.forward_forward: every nn.Linear must be followed by an nn.ReLU")
    local r = nn.rules.forward_forward(nn.Sequential(nn.Linear(12, 4), nn.ReLU()))
    th.fails(function() r:step(nn.rand(2, 3, 4), nn.randint(1, 10, {2})) end,
      "nn.rules.forward_forward: x must be (batch, 12), a flat vector per sample, got {2,3,4}")
    th.fails(function() nn.rules.forward_forward(nn.Sequential(nn.Linear(4, 4), nn.ReLU())) end,
      "nn.rules.forward_forward: 10 classes do not fit in the 4 inputs")
  end)
end)

-- ---- predictive coding, written with ops ----

-- the inference loop and the local gradients, as nn._pc_step defines them
local function pc_ops(model, x, y, iters, gamma, act, kind)
  local ws, bs = {}, {}
  for i = 1, #model._children, 2 do
    ws[#ws + 1], bs[#bs + 1] = model[i].weight:detach(), model[i].bias:detach()
  end
  local L = #ws
  local f = act == "relu" and function(t) return t:relu() end or function(t) return t:tanh() end
  local df = act == "relu" and function(t) return t:gt(0):double() end
    or function(t) return 1 - t:tanh() * t:tanh() end
  local function top_u(mu)
    if kind == "mse" then return -(mu - y) * 2 / mu:size(2) end
    return nn.one_hot(y, mu:size(2)):double() - nn.softmax(mu, 2)
  end
  local h, mu, u = {}, {}, {}
  local function fin(l) return l == 1 and x or f(h[l - 1]) end
  for l = 1, L do
    mu[l] = nn.linear(fin(l), ws[l], bs[l])
    if l < L then h[l] = mu[l] end
  end
  local function errors()
    for l = 1, L - 1 do u[l] = h[l] - mu[l] end
    u[L] = top_u(mu[L])
  end
  errors()
  for _ = 1, iters do
    local new = {}
    for l = 1, L - 1 do
      new[l] = h[l] - (u[l] - df(h[l]) * u[l + 1]:matmul(ws[l + 1])) * gamma[l]
    end
    h = new
    for l = 2, L do mu[l] = nn.linear(fin(l), ws[l], bs[l]) end
    errors()
  end
  local dw, db = {}, {}
  for l = 1, L do
    dw[l] = -u[l]:t():matmul(fin(l)) / x:size(1)
    db[l] = -u[l]:sum(1) / x:size(1)
  end
  return dw, db
end

describe("nn.rules.predictive_coding", function()
  for _, case in ipairs{{"relu", "cross_entropy"}, {"tanh", "mse"}} do
    it("relaxes the activities and updates each layer by its error (" .. case[1] .. ", "
      .. case[2] .. ")", function()
      nn.manual_seed(8)
      local act = case[1] == "relu" and nn.ReLU or nn.Tanh
      local model = mlp({6, 5, 4, 3}, act)
      local loss = case[2] == "mse" and nn.mse_loss or nn.cross_entropy
      local x = nn.randn(7, 6):double()
      local y = case[2] == "mse" and nn.randn(7, 3):double() or nn.randint(1, 3, {7})
      for _, iters in ipairs{0, 1, 4} do
        local r = nn.rules.predictive_coding(model, {loss = loss, iters = iters, step = 0.3})
        model:zero_grad()
        local got = r:gradients(x, y)
        assert.is_true(math.abs(got - loss(model(x), y):item()) < 1e-12)
        local gamma = r:steps()
        local dw, db = pc_ops(model, x, y, iters, gamma, case[1], case[2])
        for l = 1, 3 do
          local m = model[2 * l - 1]
          assert.is_true(maxdiff(m.weight.grad, dw[l]) < 1e-12,
            "iters " .. iters .. " layer " .. l .. ": dW off by " .. maxdiff(m.weight.grad, dw[l]))
          assert.is_true(maxdiff(m.bias.grad, db[l]) < 1e-12)
        end
        if iters == 0 then -- no inference: the top layer gets backprop's gradient, the rest none
          local g = nn.grad(loss(model(x), y), {model[5].weight})
          assert.is_true(maxdiff(model[5].weight.grad, g[1]) < 1e-12)
          assert.is_true(model[1].weight.grad:abs():max():item() == 0)
        end
      end
    end)
  end

  it("caps the inference step at 1/(1 + sigma_max(W)^2)", function()
    nn.manual_seed(9)
    local model = mlp({6, 5, 4}, nn.ReLU)
    model[3].weight:detach():mul_(10)
    local r = nn.rules.predictive_coding(model, {step = 0.5, power_iters = 50})
    local w = model[3].weight:detach()
    local v = nn.randn(5):double()
    for _ = 1, 300 do
      v = w:t():matmul(w:matmul(v))
      v = v / (v * v):sum():sqrt()
    end
    local sigma = w:matmul(v):norm():item()
    local gamma = r:steps()
    assert.is_true(math.abs(gamma[1] - 1 / (1 + sigma * sigma)) < 1e-9 * gamma[1])
    model[3].weight:detach():mul_(0.001)
    assert.are.equal(0.5, r:steps()[1])
  end)

  it("trains with nn.fit, and its updates point near the true gradient", function()
    nn.manual_seed(10)
    local n = 300
    local x = nn.randn(n, 10):double()
    local y = x:narrow(2, 1, 3):argmax(2)
    local model = mlp({10, 16, 3}, nn.ReLU)
    local r = nn.rules.predictive_coding(model, {optim = nn.optim.Adam(model, {lr = 0.01})})
    local h = nn.fit(model, {x, y}, {epochs = 10, batch = 30, rule = r, progress = false})
    assert.is_true(h.train_loss[10] < 0.5 * h.train_loss[1])
    for name, deg in pairs(r:angles(x, y)) do assert.is_true(deg < 60, name .. ": " .. deg) end
  end)

  it("names itself in errors", function()
    th.fails(function() nn.rules.predictive_coding(nn.Sequential(nn.ReLU())) end,
      "nn.rules.predictive_coding: the model must start with an nn.Linear")
    th.fails(function() nn.rules.predictive_coding(nn.Sequential(nn.Linear(2, 2), nn.ReLU())) end,
      "nn.rules.predictive_coding: the model must end with an nn.Linear")
    th.fails(function() nn.rules.predictive_coding(nn.Sequential(nn.Linear(2, 2)), {loss = nn.l1_loss}) end,
      "nn.rules.predictive_coding: loss must be nn.cross_entropy or nn.mse_loss")
    local r = nn.rules.predictive_coding(nn.Sequential(nn.Linear(4, 3)))
    th.fails(function() r:step(nn.rand(2, 5), nn.randint(1, 3, {2})) end,
      "nn.rules.predictive_coding: x must be (batch, 4), got {2,5}")
    th.fails(function() r:step(nn.rand(2, 4), nn.full({2}, 7, "i64")) end,
      "nn._pc_step: target 7 is out of range 1..3 (row 1)")
  end)
end)

-- ---- forward gradient ----

describe("nn.rules.forward_gradient", function()
  it("gives g = (grad f . v) v with v ~ N(0, I) (jvp)", function()
    nn.manual_seed(12)
    local model = mlp({5, 4, 3}, nn.Tanh)
    local r = nn.rules.forward_gradient(model, {loss = nn.cross_entropy})
    local x, y = nn.randn(6, 5):double(), nn.randint(1, 3, {6})
    nn.manual_seed(13)
    model:zero_grad()
    local loss = r:gradients(x, y)
    local params = model:parameters()
    nn.manual_seed(13)
    local vs = {}
    for i, p in ipairs(params) do vs[i] = nn.randn(p:shape(), p:dtype()) end
    local lt = nn.cross_entropy(model(x), y)
    local grads = nn.grad(lt, params)
    local d = 0
    for i = 1, #params do d = d + (grads[i] * vs[i]):sum():item() end
    assert.is_true(math.abs(loss - lt:item()) < 1e-12)
    for i, p in ipairs(params) do
      assert.is_true(maxdiff(p.grad, vs[i] * d) < 1e-10, "parameter " .. i)
    end
  end)

  it("is unbiased: many directions average to the true gradient (jvp and lr)", function()
    nn.manual_seed(14)
    local model = nn.Linear(4, 2):double()
    local x, y = nn.randn(8, 4):double(), nn.randn(8, 2):double()
    local truth = nn.grad(nn.mse_loss(model(x), y), {model.weight})[1]
    local function cosine(g) return (g * truth):sum():item() / (g:norm():item() * truth:norm():item()) end
    local fg = nn.rules.forward_gradient(model, {loss = nn.mse_loss, K = 3000})
    model:zero_grad()
    fg:gradients(x, y)
    assert.is_true(cosine(model.weight.grad) > 0.95, "jvp cosine " .. cosine(model.weight.grad))
    local lr = nn.rules.forward_gradient(model, {loss = nn.mse_loss, estimator = "lr", K = 4000,
      sigma = 0.05})
    model:zero_grad()
    lr:gradients(x, y)
    local g = model.weight.grad
    assert.is_true(cosine(g) > 0.95, "lr cosine " .. cosine(g))
    assert.is_true(math.abs(g:norm():item() / truth:norm():item() - 1) < 0.2)
  end)

  it("trains with nn.fit (jvp and lr)", function()
    for _, est in ipairs{"jvp", "lr"} do
      nn.manual_seed(15)
      local x = nn.randn(256, 6):double()
      local y = x:narrow(2, 1, 2):argmax(2)
      local model = mlp({6, 8, 2}, nn.Tanh)
      local r = nn.rules.forward_gradient(model, {loss = nn.cross_entropy, estimator = est,
        optim = nn.optim.Adam(model, {lr = 0.01})})
      local h = nn.fit(model, {x, y}, {epochs = 15, batch = 32, rule = r, progress = false})
      assert.is_true(h.train_loss[15] < 0.8 * h.train_loss[1], est .. ": " .. h.train_loss[15])
    end
  end)

  it("names itself in errors", function()
    th.fails(function() nn.rules.forward_gradient(nn.Linear(2, 2), {loss = 3}) end,
      "nn.rules.forward_gradient: loss must be a function, got number")
    th.fails(function() nn.rules.forward_gradient(nn.Linear(2, 2), {loss = nn.mse_loss, estimator = "lr", K = 3}) end,
      "nn.rules.forward_gradient: K must be a positive integer (even")
    th.fails(function() nn.rules.forward_gradient(nn.Sequential(nn.ReLU()), {loss = nn.mse_loss}) end,
      "nn.rules.forward_gradient: the model has no parameters")
    th.fails(function() nn.rules.forward_gradient(nn.Sequential(nn.LayerNorm(3)), {loss = nn.mse_loss, estimator = "lr"}) end,
      "nn.rules.forward_gradient: the model has no nn.Linear layer")
  end)
end)

-- ---- continual backprop ----

describe("nn.rules.continual_backprop", function()
  local function setup(rate, maturity)
    nn.manual_seed(16)
    local model = mlp({6, 5, 4}, nn.ReLU)
    local r = nn.rules.continual_backprop(model, {replacement_rate = rate, maturity = maturity,
      decay = 0.9})
    return model, r, nn.randn(8, 6):double(), nn.randint(1, 4, {8})
  end

  it("takes backprop's gradient and tracks utility = mean|h| x sum|outgoing w|", function()
    local model, r, x, y = setup(0, 100)
    model:zero_grad()
    r:gradients(x, y)
    local g = nn.grad(nn.cross_entropy(model(x), y), {model[1].weight, model[3].weight})
    assert.is_true(maxdiff(model[1].weight.grad, g[1]) < 1e-14)
    local u = nn.zeros(5):double()
    for _ = 1, 3 do
      local h = model[2](model[1](x)):detach()
      r:step(x, y)
      local contrib = h:abs():mean(1) * model[3].weight:detach():abs():sum(1)
      u = u * 0.9 + contrib:view(-1) * 0.1
    end
    assert.is_true(maxdiff(r.utility[1], u) < 1e-14)
    th.same(r.age[1], {3, 3, 3, 3, 3})
    assert.are.equal(0, r.replaced)
  end)

  it("renews the mature unit of lowest utility: fresh inputs, zero outputs, zero Adam state",
    function()
    local model, r, x, y = setup(0.25, 2)
    for _ = 1, 2 do r:step(x, y) end -- ages 2: not yet eligible
    assert.are.equal(0, r.replaced)
    local old = model[1].weight:detach():clone()
    r:step(x, y) -- ages 3 > 2: 5 eligible, 5 x 0.25 >= 1: one renewal
    assert.are.equal(1, r.replaced)
    -- a twin that renews nothing follows the same path: its utilities say which is lowest
    local _, twin = setup(0, 2)
    for _ = 1, 3 do twin:step(x, y) end
    local i = twin.utility[1]:argmin():item()
    assert.are.equal(0, r.age[1][i])
    assert.are.equal(0, r.utility[1][i])
    assert.are.equal(4, r.age[1]:gt(0):sum():item())
    assert.are.equal(0, model[3].weight:detach():narrow(2, i, 1):abs():sum():item())
    assert.are.equal(0, model[1].bias:detach()[i])
    assert.is_true(model[1].weight:detach():narrow(1, i, 1):abs():max():item() <= 1 / math.sqrt(6))
    assert.is_true(maxdiff(model[1].weight:detach():narrow(1, i, 1), old:narrow(1, i, 1)) > 1e-3)
    local st1, st3 = r.optim.state[1], r.optim.state[3]
    assert.are.equal(0, st1.exp_avg:narrow(1, i, 1):abs():sum():item())
    assert.are.equal(0, st1.exp_avg_sq:narrow(1, i, 1):abs():sum():item())
    assert.are.equal(0, st3.exp_avg:narrow(2, i, 1):abs():sum():item())
  end)

  it("trains with nn.fit", function()
    nn.manual_seed(17)
    local x = nn.randn(300, 6):double()
    local y = x:narrow(2, 1, 3):argmax(2)
    local model = mlp({6, 16, 3}, nn.ReLU)
    local r = nn.rules.continual_backprop(model, {optim = nn.optim.Adam(model, {lr = 0.01}),
      replacement_rate = 0.01, maturity = 5})
    local h = nn.fit(model, {x, y}, {epochs = 10, batch = 30, rule = r, progress = false})
    assert.is_true(h.train_loss[10] < 0.5 * h.train_loss[1])
    assert.is_true(r.replaced > 0)
  end)

  it("names itself in errors", function()
    th.fails(function() nn.rules.continual_backprop(nn.Sequential(nn.Linear(3, 2))) end,
      "nn.rules.continual_backprop: the model needs two nn.Linear layers or more")
    th.fails(function() nn.rules.continual_backprop(nn.Sequential(nn.ReLU())) end,
      "nn.rules.continual_backprop: the model has no nn.Linear layer")
    th.fails(function() nn.rules.continual_backprop(mlp({2, 3, 2}, nn.ReLU), {decay = 1}) end,
      "nn.rules.continual_backprop: replacement_rate >= 0, 0 <= decay < 1")
  end)
end)

describe("the local rules' options", function()
  it("reject unknown keys, naming the rule", function()
    th.fails(function() nn.rules.forward_forward(nn.Sequential(nn.Linear(12, 4), nn.ReLU()), {treshold = 1}) end,
      "nn.rules.forward_forward: unknown option 'treshold'")
    th.fails(function() nn.rules.predictive_coding(nn.Sequential(nn.Linear(4, 3)), {iter = 3}) end,
      "nn.rules.predictive_coding: unknown option 'iter'")
    th.fails(function() nn.rules.forward_gradient(nn.Linear(2, 2), {loss = nn.mse_loss, k = 3}) end,
      "nn.rules.forward_gradient: unknown option 'k'")
    th.fails(function() nn.rules.continual_backprop(mlp({2, 3, 2}, nn.ReLU), {rate = 1}) end,
      "nn.rules.continual_backprop: unknown option 'rate'")
  end)
end)
