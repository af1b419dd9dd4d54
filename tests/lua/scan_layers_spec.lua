-- tests/lua/scan_layers_spec.lua: MinGRU, MinLSTM, LRU and DiagonalRNN: the scan form equals the
-- sequential form (values and gradients), finite-difference checks in f64, LRU's
-- initialization, the ranges of the diagonal RNN, and bad input.

-- runs m:step over every time step of x; returns the states stacked (batch, time, hidden)
local function stepped(m, x, h)
  local out = {}
  for t = 1, x:size(2) do
    local y
    y, h = m:step(x:select(2, t), h)
    out[t] = h or y
    h = h or y
  end
  return nn.stack(out, 2)
end

local function maxdiff(a, b) return (a:double() - b:double()):abs():max():item() end

-- fn(x, p) runs m(x) with the tensor p in place of obj[field] (for gradcheck of parameters)
local function with_param(m, obj, field)
  return function(x, p)
    local old = rawget(obj, field)
    rawset(obj, field, p)
    local y = m(x)
    rawset(obj, field, old)
    return y
  end
end

for _, name in ipairs{"MinGRU", "MinLSTM"} do
  describe("nn." .. name, function()
    it("equals its sequential form within 1e-4 in f32 and 1e-10 in f64", function()
      nn.manual_seed(11)
      local m = nn[name](5, 7)
      local x, h0 = nn.randn(3, 50, 5), nn.randn(3, 7)
      local h, last = m(x, h0)
      assert.equal("{3,50,7}", th.shape(h))
      assert.equal("{3,7}", th.shape(last))
      local seq = stepped(m, x, h0)
      assert.truthy(maxdiff(h, seq) < 1e-4)
      assert.equal(0, maxdiff(last, h:select(2, 50)))
      m:double()
      x, h0 = x:double(), h0:double()
      h = m(x, h0)
      assert.truthy(maxdiff(h, stepped(m, x, h0)) < 1e-10)
      assert.truthy(maxdiff(m(x), stepped(m, x)) < 1e-10) -- zero initial state
    end)

    it("has the gradients of its sequential form, and passes gradcheck in f64", function()
      nn.manual_seed(12)
      local m = nn[name](3, 4):double()
      local x, w = nn.randn(2, 6, 3, "f64"), nn.randn(2, 6, 4, "f64")
      local params = m:parameters()
      local g1 = nn.grad({(m(x) * w):sum()}, params)
      local g2 = nn.grad({(stepped(m, x) * w):sum()}, params)
      for k = 1, #params do assert.truthy(maxdiff(g1[k], g2[k]) < 1e-10) end
      local ok, report = nn.gradcheck(function(xx) return (m(xx)) end,
        {nn.randn(2, 4, 3, "f64"):requires_grad_()})
      assert.truthy(ok, report)
      ok, report = nn.gradcheck(with_param(m, m.linear, "weight"),
        {nn.randn(2, 4, 3, "f64"), m.linear.weight:detach():clone():requires_grad_()})
      assert.truthy(ok, report)
    end)

    it("names itself and the shapes on bad input", function()
      local m = nn[name](5, 7)
      th.fails(function() return m(nn.randn(3, 4, 6)) end, "nn." .. name .. ":", "6 features",
        "expected 5", "{3,4,6}")
      th.fails(function() return m(nn.randn(4, 5)) end, "nn." .. name .. ":", "3-D", "{4,5}")
      th.fails(function() return m(nn.randn(3, 0, 5)) end, "nn." .. name .. ":", "length 0")
      th.fails(function() return m(nn.randn(3, 4, 5), nn.randn(2, 7)) end, "nn." .. name .. ":",
        "initial state", "{2,7}", "{3,7}")
      th.fails(function() return m:step(nn.randn(3, 4)) end, "nn." .. name .. ":step:", "{3,4}")
      th.fails(function() return nn[name](0, 3) end, "nn." .. name .. ":", "in")
    end)
  end)
end

-- the LRU in plain complex arithmetic, one step at a time, from its parameters (f64)
local function lru_loop(m, x)
  local lam = m:lambda():totable()
  local gamma = m.gamma_log:exp():totable()
  local Bre, Bim = m.B_re:totable(), m.B_im:totable()
  local Cre, Cim, D = m.C_re:totable(), m.C_im:totable(), m.D:totable()
  local xs, y = x:totable(), {}
  local n, nin, nout = m.state_size, m.input_size, m.output_size
  for b = 1, #xs do
    local hr, hi = {}, {}
    for j = 1, n do hr[j], hi[j] = 0, 0 end
    y[b] = {}
    for t = 1, #xs[b] do
      local u = xs[b][t]
      for j = 1, n do
        local br, bi = 0, 0
        for k = 1, nin do br, bi = br + Bre[j][k] * u[k], bi + Bim[j][k] * u[k] end
        local r = lam[1][j] * hr[j] - lam[2][j] * hi[j] + gamma[j] * br
        hi[j] = lam[1][j] * hi[j] + lam[2][j] * hr[j] + gamma[j] * bi
        hr[j] = r
      end
      y[b][t] = {}
      for o = 1, nout do
        local s = type(D[1]) == "table" and 0 or D[o] * u[o]
        if type(D[1]) == "table" then for k = 1, nin do s = s + D[o][k] * u[k] end end
        for j = 1, n do s = s + Cre[o][j] * hr[j] - Cim[o][j] * hi[j] end
        y[b][t][o] = s
      end
    end
  end
  return y
end

describe("nn.LRU", function()
  it("equals the complex recurrence computed step by step", function()
    nn.manual_seed(13)
    for _, out in ipairs{4, 2} do
      local m = nn.LRU(4, 6, out, {r_min = 0.5, r_max = 0.99}):double()
      local x = nn.randn(2, 9, 4, "f64")
      local y, hT = m(x)
      assert.equal("{2,9," .. out .. "}", th.shape(y))
      assert.equal("{2,2,6}", th.shape(hT))
      th.same(y, lru_loop(m, x), 1e-12)
    end
  end)

  it("starts on the ring, with gamma normalizing the input", function()
    nn.manual_seed(14)
    local m = nn.LRU(3, 2000, 3, {r_min = 0.9, r_max = 0.999, max_phase = math.pi / 10})
    local lam = m:lambda():double()
    local r = (lam[1] ^ 2 + lam[2] ^ 2):sqrt()
    assert.truthy(r:min():item() >= 0.9 - 1e-5 and r:max():item() <= 0.999 + 1e-5)
    -- |lambda|^2 uniform on [0.81, 0.998]: its mean is the midpoint
    assert.truthy(math.abs((r ^ 2):mean():item() - (0.81 + 0.998001) / 2) < 0.01)
    local phase = m.theta_log:double():exp()
    assert.truthy(phase:min():item() >= 0 and phase:max():item() <= math.pi / 10 + 1e-6)
    local gamma = m.gamma_log:double():exp()
    assert.truthy(maxdiff(gamma, (1 - r ^ 2):sqrt()) < 1e-4)
    local names = {}
    for k in pairs(m:state_dict()) do names[#names + 1] = k end
    table.sort(names)
    assert.equal("B_im,B_re,C_im,C_re,D,gamma_log,nu_log,theta_log", table.concat(names, ","))
  end)

  it("passes gradcheck in f64 for its input and every parameter", function()
    nn.manual_seed(15)
    local m = nn.LRU(2, 3, 2, {r_min = 0.5, r_max = 0.9}):double()
    local x = nn.randn(2, 5, 2, "f64")
    local ok, report = nn.gradcheck(function(xx) return (m(xx)) end, {x:clone():requires_grad_()})
    assert.truthy(ok, report)
    for _, p in ipairs{"nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D"} do
      ok, report = nn.gradcheck(with_param(m, m, p), {x, m[p]:detach():clone():requires_grad_()})
      assert.truthy(ok, p .. ": " .. tostring(report))
    end
  end)

  it("carries a planar initial state", function()
    nn.manual_seed(16)
    local m = nn.LRU(2, 3):double()
    local x = nn.randn(1, 8, 2, "f64")
    local _, h4 = m(x:narrow(2, 1, 4))
    local y2 = m(x:narrow(2, 5, 4), h4)
    th.same(y2, m(x):narrow(2, 5, 4):totable(), 1e-12)
  end)

  it("steps one input at a time to the same outputs and state as the scan", function()
    nn.manual_seed(17)
    for _, out in ipairs{3, 2} do
      local m = nn.LRU(3, 5, out, {r_min = 0.4, r_max = 0.95}):double()
      local x = nn.randn(2, 6, 3, "f64")
      local y, hT = m(x)
      local yt, h = nil, nil
      for t = 1, 6 do
        yt, h = m:step(x:select(2, t), h)
        th.same(yt, y:select(2, t):totable(), 1e-12)
      end
      th.same(h, hT:totable(), 1e-12)
    end
    th.fails(function() return nn.LRU(3, 4):step(nn.randn(2, 3), nn.randn(2, 4)) end,
      "nn.LRU:step:", "state", "{2,2,4}")
  end)

  it("names itself and the shapes on bad input", function()
    local m = nn.LRU(3, 4)
    th.fails(function() return m(nn.randn(2, 5, 4)) end, "nn.LRU:", "4 features", "{2,5,4}")
    th.fails(function() return m(nn.randn(2, 5)) end, "nn.LRU:", "3-D")
    th.fails(function() return m(nn.randn(2, 0, 3)) end, "nn.LRU:", "length 0")
    th.fails(function() return m(nn.randn(2, 5, 3), nn.randn(2, 4)) end, "nn.LRU:",
      "initial state", "{2,2,4}")
    th.fails(function() return nn.LRU(3, 4, 3, {r_min = 0.9, r_max = 0.5}) end, "nn.LRU:", "r_min")
    th.fails(function() return nn.LRU(3, 4, 3, {rmax = 0.5}) end, "nn.LRU:", "rmax", "r_max")
  end)
end)

describe("nn.DiagonalRNN", function()
  it("keeps its transitions in the range asked for", function()
    nn.manual_seed(17)
    local x = nn.randn(4, 30, 3) * 5
    local lo = {}
    for _, range in ipairs{"[0,1]", "[-1,1]"} do
      local m = nn.DiagonalRNN(3, 16, {range = range})
      local a = m:coefs(m.linear(x))
      assert.truthy(a:max():item() <= 1)
      lo[range] = a:min():item()
    end
    assert.truthy(lo["[0,1]"] >= 0)
    assert.truthy(lo["[-1,1]"] < -0.5)
    local m = nn.DiagonalRNN(3, 16, {forget_floor = 0.9})
    assert.truthy(m:coefs(m.linear(x)):min():item() >= 0.9)
    -- [-1,1] is tanh of the pre-activation (2 sigmoid(2 z) - 1), [0,1] its sigmoid
    for range, f in pairs{["[0,1]"] = nn.sigmoid, ["[-1,1]"] = nn.tanh} do
      local d = nn.DiagonalRNN(3, 16, {range = range}):double()
      local p = d.linear(x:double())
      assert.truthy(maxdiff(d:coefs(p), f(p:narrow(3, 1, 16))) < 1e-12)
    end
  end)

  it("equals its sequential form, with a readout and HGRN's input gate", function()
    nn.manual_seed(18)
    for _, opts in ipairs{{range = "[-1,1]"}, {forget_floor = 0.5, input_gate = "hgrn", out = 2}} do
      local m = nn.DiagonalRNN(3, 5, opts):double()
      local x = nn.randn(2, 12, 3, "f64")
      local y, last = m(x)
      local h, outs = nil, {}
      for t = 1, 12 do
        outs[t], h = m:step(x:select(2, t), h)
      end
      assert.truthy(maxdiff(y, nn.stack(outs, 2)) < 1e-10)
      assert.truthy(maxdiff(last, h) < 1e-10)
      local ok, report = nn.gradcheck(function(xx) return (m(xx)) end,
        {nn.randn(2, 4, 3, "f64"):requires_grad_()})
      assert.truthy(ok, report)
    end
  end)

  it("holds parity's exact solution in the [-1,1] range: a = 1 - 2x, b = x", function()
    -- the exact solution in the [-1,1] range: h flips between 0 and 1 on every 1
    local x, y = nn.data.parity(16, 200)
    local h = nn.linear_scan((1 - 2 * x):unsqueeze(3), x:unsqueeze(3))
    th.same(h:select(2, 200):view(16) + 1, y:float():totable(), 1e-6)
  end)

  it("names itself and the shapes on bad input", function()
    th.fails(function() return nn.DiagonalRNN(3, 4, {range = "[0,2]"}) end, "nn.DiagonalRNN:",
      "range")
    th.fails(function() return nn.DiagonalRNN(3, 4, {forget_floor = 1.5}) end,
      "nn.DiagonalRNN:", "forget_floor")
    th.fails(function() return nn.DiagonalRNN(3, 4, {rnage = "[0,1]"}) end, "nn.DiagonalRNN:",
      "rnage", "range")
    local m = nn.DiagonalRNN(3, 4)
    th.fails(function() return m(nn.randn(2, 5, 2)) end, "nn.DiagonalRNN:", "2 features")
    th.fails(function() return m(nn.randn(2, 5, 3), nn.randn(2, 5)) end, "nn.DiagonalRNN:",
      "{2,5}", "{2,4}")
  end)
end)
