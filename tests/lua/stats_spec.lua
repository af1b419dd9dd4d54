-- tests/lua/stats_spec.lua: nn.stats, the analyses of ReLU networks. The region and
-- crossing counts are exact facts about arrangements of lines, so the tests build the
-- weights by hand.

-- copies values into a parameter (in place, without recording)
local function set(p, values)
  nn.no_grad(function() p:copy_(nn.tensor(values)) end)
end

-- a one-hidden-layer net 2 -> n -> 1 whose hidden units are the lines w_j . x + b_j = 0
local function lines_net(w, b)
  local n = #b
  local m = nn.Sequential(nn.Linear(2, n), nn.ReLU(), nn.Linear(n, 1))
  set(m[1].weight, w)
  set(m[1].bias, b)
  return m
end

-- n tangents of the unit circle, perturbed: no two parallel, no three through one point
local function tangent_lines(n)
  local w, b = {}, {}
  for j = 1, n do
    local t = 2 * math.pi * (j - 1) / n + 0.13 * math.sin(3 * j)
    w[j], b[j] = {math.cos(t), math.sin(t)}, -(1 + 0.2 * math.cos(5 * j))
  end
  return w, b
end

-- the largest |coordinate| of the pairwise intersections of the lines
local function max_intersection(w, b)
  local m = 0
  for i = 1, #b do
    for j = i + 1, #b do
      local det = w[i][1] * w[j][2] - w[i][2] * w[j][1]
      local x = (-b[i] * w[j][2] + b[j] * w[i][2]) / det
      local y = (-w[i][1] * b[j] + w[j][1] * b[i]) / det
      m = math.max(m, math.abs(x), math.abs(y))
    end
  end
  return m
end

local Twice = nn.Module:extend("Twice")
function Twice:init()
  self.fc1 = nn.Linear(2, 3)
  self.act = nn.ReLU()
  self.fc2 = nn.Linear(3, 3)
end
function Twice:forward(x) return self.act(self.fc2(self.act(self.fc1(x)))) end

-- a reproducible uniform generator in [0, 1) (a 48-bit LCG)
local function lcg(seed)
  local x = seed
  return function()
    x = (x * 25214903917 + 11) % (1 << 48)
    return x / (1 << 48)
  end
end

-- n lines in general position through points of [-1, 1]^2, at random angles
local function random_lines(rng, n)
  local w, b = {}, {}
  for j = 1, n do
    local t, px, py = math.pi * rng(), 2 * rng() - 1, 2 * rng() - 1
    w[j] = {math.cos(t), math.sin(t)}
    b[j] = -(w[j][1] * px + w[j][2] * py)
  end
  return w, b
end

-- the lines that cross the open square (lo, hi)^2 plus their crossings inside it
local function crossings_in(w, b, lo, hi)
  local count = 0
  for i = 1, #b do
    local s = {}
    for _, c in ipairs{{lo, lo}, {hi, lo}, {lo, hi}, {hi, hi}} do
      s[#s + 1] = w[i][1] * c[1] + w[i][2] * c[2] + b[i]
    end
    if math.min(table.unpack(s)) < 0 and math.max(table.unpack(s)) > 0 then count = count + 1 end
    for j = i + 1, #b do
      local det = w[i][1] * w[j][2] - w[i][2] * w[j][1]
      local x = (-b[i] * w[j][2] + b[j] * w[i][2]) / det
      local y = (-w[i][1] * b[j] + w[j][1] * b[i]) / det
      if x > lo and x < hi and y > lo and y < hi then count = count + 1 end
    end
  end
  return count
end

-- Regions of a 2 -> n1 -> n2 ReLU net on [lo, hi]^2 by brute force: every boundary lies on
-- a first-layer line or on a second-layer unit's line under one of the 2^n1 first-layer
-- patterns; every region is a convex polygon with a vertex where two such lines (or a line
-- and the window's edge) meet, and an angle of at least 60 degrees at one of its vertices.
-- So the distinct activation patterns at points 64 directions around every such meeting
-- point are the regions.
local function brute_force_regions(m, lo, hi)
  local W1, b1 = m[1].weight:totable(), m[1].bias:totable()
  local W2, b2 = m[3].weight:totable(), m[3].bias:totable()
  local lines = {}
  for k = 1, #b1 do lines[#lines + 1] = {W1[k][1], W1[k][2], b1[k]} end
  for s = 0, (1 << #b1) - 1 do
    for j = 1, #b2 do
      local l = {0, 0, b2[j]}
      for k = 1, #b1 do
        if s & (1 << (k - 1)) ~= 0 then
          l[1], l[2], l[3] = l[1] + W2[j][k] * W1[k][1], l[2] + W2[j][k] * W1[k][2],
            l[3] + W2[j][k] * b1[k]
        end
      end
      lines[#lines + 1] = l
    end
  end
  for _, e in ipairs{{1, 0, -lo}, {1, 0, -hi}, {0, 1, -lo}, {0, 1, -hi}} do lines[#lines + 1] = e end
  local pts, r = {}, 1e-7 * (hi - lo)
  for i = 1, #lines do
    for j = i + 1, #lines do
      local p, q = lines[i], lines[j]
      local det = p[1] * q[2] - p[2] * q[1]
      if math.abs(det) > 1e-12 then
        local x = (-p[3] * q[2] + q[3] * p[2]) / det
        local y = (-p[1] * q[3] + q[1] * p[3]) / det
        if x >= lo and x <= hi and y >= lo and y <= hi then
          for a = 0, 63 do
            local u, v = x + r * math.cos(a * math.pi / 32 + 0.01), y + r * math.sin(a * math.pi / 32 + 0.01)
            if u > lo and u < hi and v > lo and v < hi then pts[#pts + 1] = {u, v} end
          end
        end
      end
    end
  end
  local acts = nn.stats.activations(m, nn.tensor(pts, "f64"))
  return (nn.stats.distinct(nn.stats.pattern_ids({acts["1"], acts["3"]})))
end

describe("nn.stats", function()
  it("measures the sparsity of tensors", function()
    assert.equal(0.5, nn.stats.sparsity(nn.tensor{0, 1, 0, 2}))
    assert.equal(0.25, nn.stats.sparsity(nn.tensor({{0, 1}, {3, 2}}, "i64"):t()))
    assert.equal(1, nn.stats.sparsity(nn.zeros(3, 4, "u8")))
    assert.equal(0, nn.stats.sparsity(nn.ones(5)))
    assert.equal(0, nn.stats.sparsity(nn.zeros(0)))
    assert.equal(3, nn.stats.count_zeros(nn.tensor{0, -0.0, 0 / 0, 1, 0}))
    assert.equal(2 / 3, nn.stats.sparsity(nn.relu(nn.tensor{-1, 2, -3})))
  end)

  it("reads the activations of rectifier modules by name", function()
    local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.ReLU(),
      nn.Linear(4, 1))
    local x = nn.randn(5, 2)
    local acts, names = nn.stats.activations(m, x)
    assert.same({"1", "3"}, names)
    assert.equal("{5,3}", th.shape(acts["1"]))
    assert.equal("{5,4}", th.shape(acts["3"]))
    local h1 = nn.relu(nn.linear(x, m[1].weight, m[1].bias))
    th.same(acts["1"], h1:totable(), 1e-6)
    assert.is_nil(rawget(m[2], "_forward_hooks"), "hooks removed")
    local t = Twice()
    local _, tn = nn.stats.activations(t, x)
    assert.same({"act", "act:2"}, tn)
    local per, all = nn.stats.sparsity(m, x)
    assert.equal(nn.stats.sparsity(acts["1"]), per["1"])
    assert.truthy(all >= 0 and all <= 1)
    local _, chosen = nn.stats.activations(m, x, {probe = function(name) return name == "2" end})
    assert.same({"2"}, chosen)
  end)

  it("counts dead units, over a batch or a window of batches", function()
    local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    -- unit 2: zero weights, negative bias; unit 4: negative on the positive quadrant
    set(m[1].weight, {{1, 0}, {0, 0}, {0, 1}, {-1, -2}})
    set(m[1].bias, {0, -1, 0, 0})
    local x = nn.rand(64, 2) + 0.01
    local dead, units = nn.stats.dead_units(m, x)
    assert.same({["1"] = 2}, dead)
    assert.same({["1"] = 4}, units)
    local rate, all = nn.stats.dead_rate(m, x)
    assert.equal(0.5, rate["1"])
    assert.equal(0.5, all)
    -- unit 1 is dead on the negative half-plane x1 < 0, alive once a window includes x1 > 0
    local left = nn.tensor{{-1, 1}, {-2, 3}}
    assert.same({["1"] = 3}, (nn.stats.dead_units(m, left)))
    assert.same({["1"] = 2}, (nn.stats.dead_units(m, {left, nn.tensor{{1, 1}}})))
    -- the C kernels directly
    local h = nn.tensor{{1, 0, -1}, {0, 0, 2}}
    assert.equal(1, nn.stats.dead_count(h))
    local mask = nn.stats.active(h:narrow(1, 1, 1))
    th.same(mask, {1, 0, 0})
    nn.stats.active(h:narrow(1, 2, 1), mask)
    th.same(mask, {1, 0, 1})
    assert.equal(3, nn.stats.units(h))
  end)

  it("counts 1 + n + n(n-1)/2 regions of n lines in general position", function()
    for _, n in ipairs{5, 7} do
      local w, b = tangent_lines(n)
      local m = lines_net(w, b)
      local e = 1.25 * max_intersection(w, b) + 0.5
      local count, ids, labels = nn.stats.regions(m, {xlim = {-e, e}, ylim = {-e, e}, res = 400})
      assert.equal(1 + n + n * (n - 1) // 2, count)
      assert.equal("{400,400}", th.shape(ids))
      assert.equal("i64", ids:dtype())
      assert.equal(count, labels:max():item())
      assert.equal(1, labels[1][1])
    end
  end)

  it("spans a plane through three points", function()
    local w, b = tangent_lines(5)
    local m = lines_net(w, b)
    local e = 1.25 * max_intersection(w, b) + 0.5
    local opts = {xlim = {-e, e}, ylim = {-e, e}, res = 128}
    local count, ids = nn.stats.regions(m, opts)
    -- x0 = 0, x1 - x0 = (1, 0), x2 - x0 = (0, 1): u and v are x and y
    local plane = {plane = {nn.tensor{0, 0}, nn.tensor{1, 0}, nn.tensor{0, 1}},
      ulim = {-e, e}, vlim = {-e, e}, res = 128, batch = 1000}
    local count2, ids2 = nn.stats.regions(m, plane)
    assert.equal(count, count2)
    assert.equal(0, (ids - ids2):abs():sum():item())
    -- the default window: u, v in [-0.5, 1.5] around the triangle
    local c3, ids3 = nn.stats.regions(m, {plane = plane.plane, res = 64})
    assert.equal("{64,64}", th.shape(ids3))
    -- lines in general position cut a convex window into 1 + (lines crossing it) +
    -- (crossings inside it) regions (Euler's formula): the exact count on the plane, and the
    -- grid's, which may miss small ones, never more
    local want = 1 + crossings_in(w, b, -0.5, 1.5)
    local exact = nn.stats.regions(m, {plane = plane.plane, res = 8, exact = true})
    assert.equal(want, exact)
    assert.truthy(c3 <= want and c3 >= want - 2, c3 .. " grid regions, " .. want .. " exact")
  end)

  it("counts regions exactly: random lines give 1 + n + n(n-1)/2, where the grid misses", function()
    local rng = lcg(2026)
    for _, n in ipairs{1, 2, 10, 12, 25} do
      local w, b = random_lines(rng, n)
      local m = lines_net(w, b)
      local e = 1.1 * max_intersection(w, b) + 1
      local want = 1 + n + n * (n - 1) // 2
      assert.equal(want, (nn.stats.regions(m, {xlim = {-e, e}, ylim = {-e, e}, res = 4,
        exact = true})))
      -- and on the same plane given by three points
      local plane = {nn.tensor{-e, -e}, nn.tensor{e, -e}, nn.tensor{-e, e}}
      assert.equal(want, (nn.stats.regions(m, {plane = plane, ulim = {0, 1}, vlim = {0, 1},
        res = 4, exact = true})))
    end
    -- a window that holds only some of the crossings
    local w, b = random_lines(rng, 9)
    assert.equal(1 + crossings_in(w, b, -0.3, 0.4), (nn.stats.regions(lines_net(w, b),
      {xlim = {-0.3, 0.4}, ylim = {-0.3, 0.4}, res = 4, exact = true})))
  end)

  it("counts a 2-layer net's regions exactly, as a brute-force search finds them", function()
    local rng = lcg(99)
    for trial = 1, 3 do
      local n1, n2 = 4, 3 + trial
      local m = nn.Sequential(nn.Linear(2, n1), nn.ReLU(), nn.Linear(n1, n2), nn.ReLU(),
        nn.Linear(n2, 1)):double()
      for _, p in ipairs(m:parameters()) do
        local v = {}
        for i = 1, p:numel() do v[i] = rng() * 2 - 1 end
        set(p, nn.tensor(v, "f64"):view(table.unpack(p:shape())))
      end
      local lo, hi = -2, 2
      local want = brute_force_regions(m, lo, hi)
      assert.truthy(want > 1 + n1 + n1 * (n1 - 1) // 2, "the second layer adds regions")
      local exact = nn.stats.regions(m, {xlim = {lo, hi}, ylim = {lo, hi}, res = 4, exact = true})
      assert.equal(want, exact)
      -- the same net in f32 on a grid: never more (small regions fall between its points)
      local grid = nn.stats.regions(m:float(), {xlim = {lo, hi}, ylim = {lo, hi}, res = 256})
      assert.truthy(grid <= want)
    end
  end)

  it("refuses an exact count of a model that is not piecewise linear", function()
    local m = nn.Sequential(nn.Linear(2, 6), nn.GELU(), nn.Linear(6, 6), nn.GELU())
    th.fails(function() nn.stats.regions(m, {xlim = {-3, 3}, ylim = {-3, 3}, res = 4,
      exact = true}) end, "nn.stats.regions", "piecewise-linear", "layer 2")
  end)

  it("counts the pattern changes along a line crossing k hyperplanes", function()
    -- hidden units x1 = c_j (both orientations); the segment at x2 = 0.3 from x1 = -10
    -- to 10 crosses the four with |c_j| < 10
    local c = {-7.5, -2, 0.5, 3.25, 11, -12}
    local w, b = {}, {}
    for j, cj in ipairs(c) do
      local s = j % 2 == 0 and 1 or -1
      w[j], b[j] = {s, 0}, -s * cj
    end
    local m = lines_net(w, b)
    local path = nn.stats.line(nn.tensor{-10, 0.3}, nn.tensor{10, 0.3}, 1001)
    assert.equal("{1001,2}", th.shape(path))
    local k, ids, flips = nn.stats.pattern_changes(m, path)
    assert.equal(4, k)
    assert.equal(4, flips)
    assert.equal(1001, ids:numel())
    local kc, _, fc = nn.stats.pattern_changes(m, path, {closed = true})
    assert.equal(5, kc) -- the way back jumps across all four at once
    assert.equal(8, fc)
    local kb, _, fb = nn.stats.pattern_changes(m, path, {batch = 7, closed = true})
    assert.equal(5, kb)
    assert.equal(8, fb)
    -- three points: two pattern changes, but the units still flip four times
    local coarse = nn.stats.line(nn.tensor{-10, 0.3}, nn.tensor{10, 0.3}, 3)
    local k3, _, f3 = nn.stats.pattern_changes(m, coarse)
    assert.equal(2, k3)
    assert.equal(4, f3)
    -- a second ReLU layer that copies the first adds no new boundaries
    local deep = nn.Sequential(m[1], nn.ReLU(), nn.Linear(6, 6), nn.ReLU())
    set(deep[3].weight, nn.eye(6):totable())
    set(deep[3].bias, nn.zeros(6):totable())
    assert.equal(4, (nn.stats.pattern_changes(deep, path)))
  end)

  it("measures the length distortion of curves", function()
    local m = nn.Sequential(nn.Linear(2, 2, {bias = false}))
    set(m[1].weight, {{3, 0}, {0, 3}})
    local circle = nn.stats.circle(nn.tensor{1, 0}, nn.tensor{0, 1}, nn.tensor{-1, 0}, 1000)
    assert.equal("{1000,2}", th.shape(circle))
    th.same(circle[1], {1, 0}, 1e-6)
    th.same(circle:norm(2, 2), nn.ones(1000):totable(), 1e-5)
    local ratio, out_len, in_len = nn.stats.length_distortion(m, circle, {closed = true})
    assert.near(3, ratio, 1e-5)
    assert.near(2 * math.pi, in_len, 1e-4)
    assert.near(6 * math.pi, out_len, 1e-3)
    assert.near(2 * math.pi, nn.stats.path_length(circle, true), 1e-4)
    -- a circle through three points of R^5 passes through all three
    local a, b, c = nn.randn(5), nn.randn(5), nn.randn(5)
    local pts = nn.stats.circle(a, b, c, 3600):double()
    for _, p in ipairs{b, c} do
      local d = (pts - p:double():view(1, 5)):norm(2, 2):min():item()
      assert.truthy(d < 0.01 * (b - a):norm():item(), "passes near the point")
    end
    local line = nn.stats.line(nn.zeros(2, 2), nn.ones(2, 2), 3)
    assert.equal("{3,2,2}", th.shape(line))
    th.same(line[2], {{0.5, 0.5}, {0.5, 0.5}})
  end)

  it("leaves the model as it was", function()
    local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 1))
    m:train()
    nn.stats.regions(m, {xlim = {-1, 1}, ylim = {-1, 1}, res = 16})
    assert.is_true(m[3].training)
    assert.is_nil(rawget(m[2], "_forward_hooks"))
    local bad = nn.Sequential(nn.Linear(2, 1))
    th.fails(function() nn.stats.regions(bad, {xlim = {0, 1}, ylim = {0, 1}}) end,
      "nn.stats.regions", "no rectifier modules")
    th.fails(function() nn.stats.regions(m, {res = 8}) end, "xlim")
    th.fails(function() nn.stats.circle(nn.zeros(2), nn.ones(2), 2 * nn.ones(2), 8) end,
      "one line")
    th.fails(function() nn.stats.pattern_ids({nn.zeros(2, 3), nn.zeros(3, 3)}) end,
      "nn.stats.pattern_ids", "layer 2 has 3 samples")
    th.fails(function() nn.stats.changes(nn.zeros(3)) end, "integer")
  end)

  it("runs forward hooks on modules", function()
    local m = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    local seen = 0
    local h = m[2]:register_forward_hook(function(mod, input, output)
      seen = seen + 1
      assert.equal(m[2], mod)
      assert.equal("{3,2}", th.shape(input))
      return output * 0
    end)
    local y = m(nn.randn(3, 2))
    assert.equal(1, seen)
    assert.equal(0, y:abs():sum():item())
    h:remove()
    m(nn.randn(3, 2))
    assert.equal(1, seen)
  end)

  it("documents every function", function()
    for name, f in pairs(nn.stats) do
      if type(f) == "function" then
        local e = nn._docs.byfn[f]
        assert(e and e.sig and e.doc, "nn.stats." .. name .. " has no docs")
        assert.equal("nn.stats." .. name, e.fname)
      end
    end
  end)
end)
