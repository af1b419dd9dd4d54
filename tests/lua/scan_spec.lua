-- tests/lua/scan_spec.lua: nn.linear_scan and nn.linear_scan_complex against plain Lua loops,
-- their gradients against the loops' gradients, long f32 scans, and bad input.

-- h_t = a_t h_{t-1} + b_t with Lua numbers, from tables a[b][t][f], b, h0[b][f]
local function loop(a, b, h0)
  local h = {}
  for i = 1, #a do
    h[i] = {}
    local prev = h0 and h0[i] or nil
    for t = 1, #a[i] do
      h[i][t] = {}
      for f = 1, #a[i][t] do
        local p = prev and prev[f] or 0
        h[i][t][f] = a[i][t][f] * p + b[i][t][f]
      end
      prev = h[i][t]
    end
  end
  return h
end

-- the complex loop, parts as tables
local function cloop(ar, ai, br, bi, h0r, h0i)
  local hr, hi = {}, {}
  for i = 1, #ar do
    hr[i], hi[i] = {}, {}
    local pr, pi = h0r and h0r[i], h0i and h0i[i]
    for t = 1, #ar[i] do
      hr[i][t], hi[i][t] = {}, {}
      for f = 1, #ar[i][t] do
        local xr, xi = pr and pr[f] or 0, pi and pi[f] or 0
        local a, c = ar[i][t][f], ai[i][t][f]
        hr[i][t][f] = a * xr - c * xi + br[i][t][f]
        hi[i][t][f] = a * xi + c * xr + bi[i][t][f]
      end
      pr, pi = hr[i][t], hi[i][t]
    end
  end
  return hr, hi
end

-- the same scan built from differentiable ops, one step at a time (for gradients)
local function op_loop(a, b, h0)
  local h = h0 or nn.zeros(a:size(1), a:size(3)):to(a:dtype())
  local out = {}
  for t = 1, a:size(2) do
    h = a:select(2, t) * h + b:select(2, t)
    out[t] = h
  end
  return nn.stack(out, 2)
end

describe("nn.linear_scan", function()
  it("equals a plain loop exactly in f64, with and without h0", function()
    nn.manual_seed(1)
    local a, b, h0 = nn.rand(3, 7, 5, "f64") * 2 - 1, nn.randn(3, 7, 5, "f64"), nn.randn(3, 5, "f64")
    th.same(nn.linear_scan(a, b, h0), loop(a:totable(), b:totable(), h0:totable()), 0)
    th.same(nn.linear_scan(a, b), loop(a:totable(), b:totable()), 0)
    assert.equal("{3,7,5}", th.shape(nn.linear_scan(a, b)))
  end)

  it("splits wide feature dims and many batches into pieces without changing a bit", function()
    nn.manual_seed(2)
    local a, b = nn.rand(9, 40, 600, "f64"), nn.randn(9, 40, 600, "f64")
    local h = nn.linear_scan(a, b)
    local want = loop(a:narrow(1, 9, 1):totable(), b:narrow(1, 9, 1):totable())
    th.same(h:narrow(1, 9, 1), want, 0)
  end)

  it("reads strided and expanded views", function()
    nn.manual_seed(3)
    local lam = nn.rand(4, "f64")
    local a = lam:view(1, 1, 4):expand(2, 6, 4)
    local b = nn.randn(2, 4, 6, "f64"):transpose(2, 3)
    th.same(nn.linear_scan(a, b), loop(a:totable(), b:totable()), 0)
  end)

  it("is stable over 4096 steps in f32", function()
    nn.manual_seed(4)
    local a = nn.rand(2, 4096, 8) * 0.2 + 0.8
    local b = nn.randn(2, 4096, 8)
    local h32 = nn.linear_scan(a, b)
    local h64 = nn.linear_scan(a:double(), b:double())
    local err = (h32:double() - h64):abs():max():item()
    local scale = h64:abs():max():item()
    assert.truthy(err < 1e-5 * scale, "max error " .. err .. " of " .. scale)
    -- a = 1 everywhere: a running sum, still accurate
    local s = nn.linear_scan(nn.ones(1, 4096, 1), nn.ones(1, 4096, 1))
    assert.equal(4096, s[1][4096][1])
  end)

  it("has the gradients of the step-by-step loop, in both modes", function()
    nn.manual_seed(5)
    local a, b = nn.rand(2, 5, 3, "f64") * 2 - 1, nn.randn(2, 5, 3, "f64")
    local h0, w = nn.randn(2, 3, "f64"), nn.randn(2, 5, 3, "f64")
    local ga = nn.grad({(nn.linear_scan(a:requires_grad_(), b:requires_grad_(),
      h0:requires_grad_()) * w):sum()}, {a, b, h0})
    local gl = nn.grad({(op_loop(a, b, h0) * w):sum()}, {a, b, h0})
    for k = 1, 3 do th.same(ga[k], gl[k]:totable(), 1e-12) end
    local ta, tb, th0 = nn.randn(2, 5, 3, "f64"), nn.randn(2, 5, 3, "f64"), nn.randn(2, 3, "f64")
    local _, t1 = nn.jvp(function(x, y, z) return nn.linear_scan(x, y, z) end, {a, b, h0},
      {ta, tb, th0})
    local _, t2 = nn.jvp(op_loop, {a, b, h0}, {ta, tb, th0})
    th.same(t1, t2:totable(), 1e-12)
    local ok, report = nn.gradcheck(function(x, y) return nn.linear_scan(x, y) end,
      {a:detach():requires_grad_(), b:detach():requires_grad_()})
    assert.truthy(ok, report)
  end)

  it("names itself and the shapes on bad input", function()
    local a = nn.rand(2, 3, 4)
    th.fails(function() return nn.linear_scan(a, nn.rand(2, 3, 5)) end,
      "nn.linear_scan:", "{2,3,4}", "{2,3,5}")
    th.fails(function() return nn.linear_scan(nn.rand(3, 4), nn.rand(3, 4)) end,
      "nn.linear_scan:", "(batch, time, features)", "{3,4}")
    th.fails(function() return nn.linear_scan(a, a, nn.rand(2, 5)) end,
      "nn.linear_scan:", "h0", "{2,5}", "{2,4}")
    th.fails(function() return nn.linear_scan(nn.rand(2, 0, 4), nn.rand(2, 0, 4)) end,
      "nn.linear_scan:", "length 0")
    th.fails(function() return nn.linear_scan(a, a:double()) end, "nn.linear_scan:", "dtype")
    th.fails(function() return nn.linear_scan(a:long(), a:long()) end, "nn.linear_scan:", "i64")
    th.fails(function() return nn.linear_scan(a) end, "nn.linear_scan:")
  end)
end)

describe("nn.linear_scan_complex", function()
  it("equals the complex loop in f64, in pairs and in planar form", function()
    nn.manual_seed(6)
    local function r(...) return nn.rand(...):double() * 2 - 1 end
    local ar, ai, br, bi = r(2, 6, 3), r(2, 6, 3), r(2, 6, 3), r(2, 6, 3)
    local h0r, h0i = r(2, 3), r(2, 3)
    local hr, hi = nn.linear_scan_complex(ar, ai, br, bi, h0r, h0i)
    local wr, wi = cloop(ar:totable(), ai:totable(), br:totable(), bi:totable(), h0r:totable(),
      h0i:totable())
    th.same(hr, wr, 1e-15)
    th.same(hi, wi, 1e-15)
    local h = nn.linear_scan_complex(nn.stack({ar, ai}), nn.stack({br, bi}))
    wr, wi = cloop(ar:totable(), ai:totable(), br:totable(), bi:totable())
    th.same(h[1], wr, 1e-15)
    th.same(h[2], wi, 1e-15)
  end)

  it("has the gradients of the loop written with real ops", function()
    nn.manual_seed(7)
    local function r(...) return (nn.rand(...):double() * 2 - 1):requires_grad_() end
    local ar, ai, br, bi, h0r, h0i = r(2, 4, 3), r(2, 4, 3), r(2, 4, 3), r(2, 4, 3), r(2, 3), r(2, 3)
    local wr, wi = nn.randn(2, 4, 3, "f64"), nn.randn(2, 4, 3, "f64")
    local inputs = {ar, ai, br, bi, h0r, h0i}
    local hr, hi = nn.linear_scan_complex(ar, ai, br, bi, h0r, h0i)
    local g1 = nn.grad({(hr * wr):sum() + (hi * wi):sum()}, inputs)
    local pr, pi, outr, outi = h0r, h0i, {}, {}
    for t = 1, 4 do
      local a, c = ar:select(2, t), ai:select(2, t)
      pr, pi = a * pr - c * pi + br:select(2, t), a * pi + c * pr + bi:select(2, t)
      outr[t], outi[t] = pr, pi
    end
    local g2 = nn.grad({(nn.stack(outr, 2) * wr):sum() + (nn.stack(outi, 2) * wi):sum()}, inputs)
    for k = 1, 6 do th.same(g1[k], g2[k]:totable(), 1e-12) end
  end)

  it("names itself and the shapes on bad input", function()
    local x = nn.rand(2, 3, 4)
    th.fails(function() return nn.linear_scan_complex(x, nn.rand(2, 3, 5), x, x) end,
      "nn.linear_scan_complex:", "ar and ai", "{2,3,4}", "{2,3,5}")
    th.fails(function() return nn.linear_scan_complex(x, x, x, x, nn.rand(2, 4), nn.rand(3, 4)) end,
      "nn.linear_scan_complex:", "h0r and h0i")
    th.fails(function() return nn.linear_scan_complex(x, x, x, x, nn.rand(2, 5), nn.rand(2, 5)) end,
      "nn.linear_scan_complex:", "h0", "{2,2,5}")
    th.fails(function() return nn.linear_scan_complex(nn.rand(3, 2, 3, 4), nn.rand(3, 2, 3, 4)) end,
      "nn.linear_scan_complex:", "(2, batch, time, features)")
  end)
end)

describe("nn.mingru_scan", function()
  it("equals the scan of its gates, values and gradients, in f64", function()
    nn.manual_seed(8)
    local p, h0 = (nn.randn(3, 9, 8, "f64") * 2):requires_grad_(), nn.randn(3, 4, "f64"):requires_grad_()
    local w = nn.randn(3, 9, 4, "f64")
    local function composed(pp, hh)
      local z = pp:narrow(3, 1, 4):sigmoid()
      return nn.linear_scan(1 - z, z * pp:narrow(3, 5, 4), hh)
    end
    local h = nn.mingru_scan(p, h0)
    th.same(h, composed(p, h0):totable(), 1e-14)
    local g1 = nn.grad({(h * w):sum()}, {p, h0})
    local g2 = nn.grad({(composed(p, h0) * w):sum()}, {p, h0})
    th.same(g1[1], g2[1]:totable(), 1e-12)
    th.same(g1[2], g2[2]:totable(), 1e-12)
    local tp, th0 = nn.randn(3, 9, 8, "f64"), nn.randn(3, 4, "f64")
    local _, t1 = nn.jvp(nn.mingru_scan, {p:detach(), h0:detach()}, {tp, th0})
    local _, t2 = nn.jvp(composed, {p:detach(), h0:detach()}, {tp, th0})
    th.same(t1, t2:totable(), 1e-12)
    th.same(nn.mingru_scan(p), composed(p, nil):totable(), 1e-14)
  end)

  it("names itself and the shapes on bad input", function()
    th.fails(function() return nn.mingru_scan(nn.rand(2, 3, 5)) end, "nn.mingru_scan:", "{2,3,5}")
    th.fails(function() return nn.mingru_scan(nn.rand(2, 3, 4), nn.rand(2, 3)) end,
      "nn.mingru_scan:", "h0", "{2,3}", "{2,2}")
    th.fails(function() return nn.mingru_scan(nn.rand(2, 0, 4)) end, "nn.mingru_scan:", "length 0")
  end)
end)
