-- tests/lua/recurrent_spec.lua: nn.RNN, nn.LSTM, nn.GRU and the fused ops under them:
-- shapes and several results, the fused op equal to a plain Lua loop of PyTorch's cell
-- formulas, finite-difference checks in f64 through whole multi-layer modules, state
-- carried across calls, state dicts, and bad input. (Parity with PyTorch itself is in
-- tests/parity/recurrent.*.)

local function maxdiff(a, b) return (a:double() - b:double()):abs():max():item() end

-- PyTorch's formulas, one step at a time in Lua (a reference independent of the C code)
local function cell(mode, x, h, c, wih, whh, bih, bhh)
  local H = whh:size(2)
  local xp, hp = nn.linear(x, wih, bih), nn.linear(h, whh, bhh)
  local function part(t, k) return t:narrow(2, k * H + 1, H) end
  if mode == "rnn_tanh" then return (xp + hp):tanh() end
  if mode == "rnn_relu" then return (xp + hp):relu() end
  if mode == "lstm" then
    local a = xp + hp
    local i, f = part(a, 0):sigmoid(), part(a, 1):sigmoid()
    local g, o = part(a, 2):tanh(), part(a, 3):sigmoid()
    c = f * c + i * g
    return o * c:tanh(), c
  end
  local r = (part(xp, 0) + part(hp, 0)):sigmoid()
  local z = (part(xp, 1) + part(hp, 1)):sigmoid()
  local n = (part(xp, 2) + r * part(hp, 2)):tanh()
  return (1 - z) * n + z * h
end

local function looped(mode, x, h, c, wih, whh, bih, bhh)
  local ys = {}
  for t = 1, x:size(2) do
    h, c = cell(mode, x:select(2, t), h, c, wih, whh, bih, bhh)
    ys[t] = h
  end
  return nn.stack(ys, 2), h, c
end

local gates = {rnn_tanh = 1, rnn_relu = 1, lstm = 4, gru = 3}

describe("the fused recurrent ops", function()
  for mode, G in pairs(gates) do
    it(mode .. " equals the cell formulas looped in Lua (f64), values and gradients", function()
      nn.manual_seed(5)
      local B, T, F, H = 3, 6, 4, 5
      local args = {nn.randn(B, T, F, "f64"), nn.randn(B, H, "f64"), nn.randn(B, H, "f64"),
        nn.randn(G * H, F, "f64") * 0.5, nn.randn(G * H, H, "f64") * 0.5,
        nn.randn(G * H, "f64"), nn.randn(G * H, "f64")}
      for _, a in ipairs(args) do a.requires_grad = true end
      local x, h0, c0, wih, whh, bih, bhh = table.unpack(args)
      local y, hn, cn
      if mode == "lstm" then
        y, hn, cn = nn.lstm(x, h0, c0, wih, whh, bih, bhh)
      else
        y, hn = nn[mode](x, h0, wih, whh, bih, bhh)
      end
      local ry, rh, rc = looped(mode, x, h0, mode == "lstm" and c0 or nil, wih, whh, bih, bhh)
      assert.truthy(maxdiff(y, ry) < 1e-12)
      assert.truthy(maxdiff(hn, rh) < 1e-12)
      if cn then assert.truthy(maxdiff(cn, rc) < 1e-12) end
      local wy, wh = nn.randn(B, T, H, "f64"), nn.randn(B, H, "f64")
      local function loss(a, b, c)
        local s = (a * wy):sum() + (b * wh):sum()
        return c and s + (c * wh):sum() or s
      end
      local used = mode == "lstm" and args or {x, h0, wih, whh, bih, bhh}
      local g1 = nn.grad(loss(y, hn, cn), used)
      local g2 = nn.grad(loss(ry, rh, rc), used)
      for k = 1, #used do assert.truthy(maxdiff(g1[k], g2[k]) < 1e-10, "input " .. k) end
    end)
  end

  it("return several tensors and take nil states and biases", function()
    local x = nn.randn(2, 3, 4)
    local y, h, c = nn.lstm(x, nil, nil, nn.randn(8, 4), nn.randn(8, 2))
    assert.equal("{2,3,2}", th.shape(y))
    assert.equal("{2,2}", th.shape(h))
    assert.equal("{2,2}", th.shape(c))
    local r = table.pack(nn.gru(x, nil, nn.randn(6, 4), nn.randn(6, 2)))
    assert.equal(2, r.n)
    assert.truthy(maxdiff(r[1]:select(2, 3), r[2]) == 0)
  end)
end)

describe("nn.RNN, nn.LSTM, nn.GRU", function()
  it("have PyTorch's parameter names, shapes and init bound", function()
    nn.manual_seed(1)
    local m = nn.LSTM(3, 4, {layers = 2})
    local shapes = {}
    for name, p in m:named_parameters() do shapes[name] = th.shape(p) end
    assert.same({weight_ih_l0 = "{16,3}", weight_hh_l0 = "{16,4}", bias_ih_l0 = "{16}",
      bias_hh_l0 = "{16}", weight_ih_l1 = "{16,4}", weight_hh_l1 = "{16,4}",
      bias_ih_l1 = "{16}", bias_hh_l1 = "{16}"}, shapes)
    local big = nn.GRU(10, 100)
    assert.truthy(big.weight_hh_l0:abs():max():item() <= 0.1)
    assert.truthy(big.weight_hh_l0:abs():max():item() > 0.09)
    local nb = 0
    for _ in nn.RNN(3, 4, {bias = false}):named_parameters() do nb = nb + 1 end
    assert.equal(2, nb)
  end)

  it("pass gradcheck in f64 through two layers with initial states", function()
    nn.manual_seed(3)
    for _, name in ipairs{"RNN", "LSTM", "GRU"} do
      local m = nn[name](3, 2, {layers = 2}):double()
      local x, h0, c0 = nn.randn(2, 4, 3, "f64"), nn.randn(2, 2, 2, "f64"), nn.randn(2, 2, 2, "f64")
      local ok, msg = nn.gradcheck(function(xx, hh, cc, w)
        local old = m.weight_hh_l0
        rawset(m, "weight_hh_l0", w)
        local y, s
        if name == "LSTM" then
          y, s = m(xx, {hh, cc})
          s = s[1] + s[2]
        else
          y, s = m(xx, hh)
        end
        rawset(m, "weight_hh_l0", old)
        return y, s
      end, {x, h0, c0, m.weight_hh_l0:detach():clone()})
      assert.truthy(ok, name .. ": " .. tostring(msg))
    end
  end)

  it("carry the state: two halves equal the whole sequence", function()
    nn.manual_seed(4)
    local m = nn.LSTM(3, 5, {layers = 2})
    local x = nn.randn(2, 8, 3)
    local y, s = m(x)
    local y1, s1 = m(x:narrow(2, 1, 5))
    local y2, s2 = m(x:narrow(2, 6, 3), s1)
    assert.truthy(maxdiff(y:narrow(2, 6, 3), y2) < 1e-6)
    assert.truthy(maxdiff(s[1], s2[1]) < 1e-6 and maxdiff(s[2], s2[2]) < 1e-6)
    local g = nn.GRU(3, 5)
    local gy, gh = g(x)
    local _, gh1 = g(x:narrow(2, 1, 4))
    local _, gh2 = g(x:narrow(2, 5, 4), gh1)
    assert.truthy(maxdiff(gh, gh2) < 1e-6 and maxdiff(gy:select(2, 8), gh:select(1, 1)) == 0)
  end)

  it("train: a GRU learns to output the running sign of its input's sum", function()
    nn.manual_seed(7)
    local m, head = nn.GRU(1, 8), nn.Linear(8, 1)
    local params = m:parameters()
    for _, p in ipairs(head:parameters()) do params[#params + 1] = p end
    local opt = nn.optim.Adam(params, {lr = 0.02})
    local x = nn.randn(16, 10, 1)
    local target = x:sum(2):gt(0):float()
    local first, last
    for step = 1, 150 do
      opt:zero_grad()
      local y = m(x)
      local loss = nn.bce_with_logits(head(y:select(2, 10)), target)
      loss:backward()
      opt:step()
      if step == 1 then first = loss:item() end
      last = loss:item()
    end
    assert.truthy(last < 0.5 * first, string.format("%g -> %g", first, last))
  end)

  it("name the layer and the shapes on bad input", function()
    local m = nn.LSTM(4, 3, {layers = 2})
    local function err(...)
      local ok, msg = pcall(m, ...)
      assert.is_false(ok)
      return msg
    end
    assert.equal("nn.LSTM: input has 3 features, expected 4 (input shape {2,5,3})",
      err(nn.randn(2, 5, 3)))
    assert.equal("nn.LSTM: input must be 3-D (batch, time, features), got shape {5,4}",
      err(nn.randn(5, 4)))
    assert.equal("nn.LSTM: the sequence has length 0 (input shape {2,0,4})", err(nn.randn(2, 0, 4)))
    assert.equal("nn.LSTM: h0 has shape {1,2,3}, expected {2,2,3} (layers, batch, hidden)",
      err(nn.randn(2, 5, 4), {nn.randn(1, 2, 3), nn.randn(2, 2, 3)}))
    assert.truthy(err(nn.randn(2, 5, 4), nn.randn(2, 2, 3)):find("must be a table {h0, c0}"))
    local ok, msg = pcall(nn.GRU(4, 3), nn.randn(2, 5, 4), nn.randn(1, 3, 3))
    assert.is_false(ok)
    assert.equal("nn.GRU: h0 has shape {1,3,3}, expected {1,2,3} (layers, batch, hidden)", msg)
    ok, msg = pcall(nn.RNN, 4, 3, {nonlinearity = "gelu"})
    assert.truthy(not ok and msg:find("nonlinearity"))
    ok, msg = pcall(nn.lstm, nn.randn(2, 3, 4), nil, nil, nn.randn(8, 5), nn.randn(8, 2))
    assert.truthy(not ok and msg:find("^nn.lstm: lstm: weight_ih has shape {8,5}, expected {8,4}"))
  end)

  it("save and load through a state dict", function()
    nn.manual_seed(9)
    local m, m2 = nn.GRU(3, 4, {layers = 2}), nn.GRU(3, 4, {layers = 2})
    local path = os.tmpname()
    nn.save(path, m)
    local sd = nn.load(path)
    os.remove(path)
    m2:load_state_dict(sd)
    local x = nn.randn(2, 5, 3)
    assert.truthy(maxdiff(m(x), m2(x)) == 0)
  end)
end)
