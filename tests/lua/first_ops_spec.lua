-- tests/lua/first_ops_spec.lua: the ops a PyTorch user reaches for in the first hour (sort,
-- topk, cumsum, cumprod, all, any, isnan, isinf, allclose, equal, tril, triu, chunk, split,
-- dot, norm, flip, roll, repeat_interleave, arange, *_like, nn.utils clipping), each against the
-- same computation written in plain Lua.

-- a list of n random numbers in [-2, 2), with some repeats when ties is set
local function randoms(n, ties)
  local t = {}
  for i = 1, n do
    t[i] = ties and math.random(-2, 2) or (math.random() * 4 - 2)
  end
  return t
end

-- the rows of an r x c random matrix, as tables
local function matrix(r, c, ties)
  local m = {}
  for i = 1, r do m[i] = randoms(c, ties) end
  return m
end

local function f64(t) return nn.tensor(t, "f64") end

-- a tensor's sizes as a plain list
local function dims(t)
  local r = {}
  for i = 1, t:dim() do r[i] = t:size(i) end
  return r
end

describe("first-hour ops", function()
  before_each(function() math.randomseed(7) end)

  it("nn.arange is half-open, as torch.arange; nn.range stays inclusive", function()
    local function lua_arange(a, b, s)
      local t = {}
      local n = math.max(0, math.ceil((b - a) / s))
      for i = 0, n - 1 do t[#t + 1] = a + i * s end
      return t
    end
    th.same(nn.arange(5), lua_arange(0, 5, 1))
    assert.equal("i64", nn.arange(5):dtype())
    th.same(nn.arange(2, 9, 3), lua_arange(2, 9, 3))
    th.same(nn.arange(1, 2, 0.25), lua_arange(1, 2, 0.25))
    assert.equal("f32", nn.arange(1, 2, 0.25):dtype())
    assert.equal(10, nn.arange(0, 1, 0.1):numel())
    th.same(nn.arange(5, 0, -2), lua_arange(5, 0, -2))
    assert.equal(0, nn.arange(3, 1):numel())
    assert.equal("f64", nn.arange(4, "f64"):dtype())
    assert.equal(5, nn.range(1, 5):numel())
    th.fails(function() nn.arange(0, 1, 0) end, "nn.arange", "step")
  end)

  it("makes tensors like another", function()
    local x = nn.randn(2, 3):double()
    for _, name in ipairs{"zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"} do
      local y = nn[name](x)
      assert.equal(x.shape, y.shape)
      assert.equal("f64", y:dtype())
      assert.equal("f32", nn[name](x, "f32"):dtype())
    end
    th.same(nn.zeros_like(x), {{0, 0, 0}, {0, 0, 0}})
    th.same(nn.ones_like(x), {{1, 1, 1}, {1, 1, 1}})
    th.same(nn.full_like(x, 2.5), {{2.5, 2.5, 2.5}, {2.5, 2.5, 2.5}})
    local u = nn.rand_like(nn.zeros(1000))
    assert.truthy(u:min():item() >= 0 and u:max():item() < 1)
    assert.equal("i64", nn.full_like(nn.zeros(2), 3, "i64"):dtype())
    th.fails(function() nn.randn_like(nn.zeros(2), "i64") end, "nn.randn_like", "i64")
  end)

  it("sorts stably, with 1-based indices, as Lua's sort of (value, position) pairs", function()
    for _, desc in ipairs{false, true} do
      local m = matrix(4, 9, true)
      local v, idx = f64(m):sort(2, desc)
      assert.equal("i64", idx:dtype())
      for r = 1, 4 do
        local pairs_ = {}
        for j, x in ipairs(m[r]) do pairs_[j] = {x, j} end
        table.sort(pairs_, function(a, b)
          if a[1] ~= b[1] then return (a[1] > b[1]) == desc end
          return a[2] < b[2] -- stable: equal values keep their order
        end)
        for j = 1, 9 do
          assert.equal(pairs_[j][1], v[r][j])
          assert.equal(pairs_[j][2], idx[r][j])
        end
      end
    end
    -- along dim 1, the default last dim, x:sort(true), and nan last
    local x = f64{{3, 1}, {1, 2}, {2, 0}}
    local v1, i1 = x:sort(1)
    th.same(v1, {{1, 0}, {2, 1}, {3, 2}})
    th.same(i1, {{2, 3}, {3, 1}, {1, 2}})
    th.same((x:sort()), {{1, 3}, {1, 2}, {0, 2}})
    th.same((x:sort(true)), {{3, 1}, {2, 1}, {2, 0}})
    local vn, in_ = f64{2, 0 / 0, 1}:sort()
    assert.equal(1, vn[1]); assert.equal(2, vn[2]); assert.truthy(vn[3] ~= vn[3])
    th.same(in_, {3, 1, 2})
  end)

  it("sorts long lanes (a radix sort, lanes shared among threads) as Lua's stable sort does, "
    .. "nan, -0 and infinities included", function()
    local R, C = 40, 1000 -- 40000 elements: two pieces
    local function make_rows(special) -- ties, exact in f32; the specials at random places
      local rows = {}
      for r = 1, R do
        rows[r] = {}
        for c = 1, C do rows[r][c] = math.random(-300, 300) end
        for _, v in ipairs(special) do rows[r][math.random(C)] = v end
      end
      return rows
    end
    local function lua_order(list, desc)
      local p = {}
      for j, x in ipairs(list) do p[j] = {x ~= x and math.huge or x, j, x ~= x} end
      table.sort(p, function(a, b)
        if a[3] ~= b[3] then return (not a[3]) ~= desc end -- nan after every number ascending
        if a[1] ~= b[1] then return (a[1] > b[1]) == desc end
        return a[2] < b[2]
      end)
      local idx = {}
      for j = 1, #p do idx[j] = p[j][2] end
      return idx
    end
    for _, dt in ipairs{"f32", "f64", "i64"} do
      local rows = dt == "i64" and make_rows{2 ^ 40, -2 ^ 40, 0}
        or make_rows{-0.0, 0.0, math.huge, -math.huge, 0 / 0, 1e-30}
      local x = nn.tensor(rows, dt)
      for _, desc in ipairs{false, true} do
        local _, idx = x:sort(2, desc)
        local _, idx1 = x:t():contiguous():sort(1, desc) -- the same lanes, inner stride R
        local got, got1 = idx:totable(), idx1:t():totable()
        for r = 1, R do
          local want = lua_order(rows[r], desc)
          assert.are.same(want, got[r], dt .. " row " .. r)
          assert.are.same(want, got1[r], dt .. " column " .. r)
        end
      end
    end
  end)

  it("topk gives the first k of the sort, largest or smallest first", function()
    local m = matrix(3, 7)
    local x = f64(m)
    for _, largest in ipairs{true, false} do
      local v, i = x:topk(3, 2, largest)
      local sv, si = x:sort(2, largest)
      th.same(v, sv:narrow(2, 1, 3):totable())
      th.same(i, si:narrow(2, 1, 3):totable())
    end
    local v = x:topk(2, 1)
    for c = 1, 7 do
      local col = {m[1][c], m[2][c], m[3][c]}
      table.sort(col, function(a, b) return a > b end)
      assert.near(col[1], v[1][c], 1e-12)
      assert.near(col[2], v[2][c], 1e-12)
    end
    -- a small k of a long lane (a selection, not a full sort), with ties and nans
    local long = randoms(200, true)
    long[17], long[150] = 0 / 0, 0 / 0
    for _, largest in ipairs{true, false} do
      local lv, li = f64(long):topk(5, 1, largest)
      local sv, si = f64(long):sort(1, largest)
      for r = 1, 5 do
        assert.equal(si[r], li[r])
        assert.truthy(sv[r] == lv[r] or (sv[r] ~= sv[r] and lv[r] ~= lv[r]))
      end
    end
    local lv, li = f64(long):topk(3)
    assert.truthy(lv[1] ~= lv[1] and lv[2] ~= lv[2]) -- nan is the largest
    assert.same({17, 150}, {li[1], li[2]})
    th.fails(function() x:topk(8) end, "nn.topk", "k 8", "size 7")
    th.fails(function() x:topk(-1) end, "nn.topk", "k -1")
    th.fails(function() x:topk(1, 3) end, "nn.topk", "dim 3")
  end)

  it("sort's and topk's values carry gradients to where they came from", function()
    local x = f64(matrix(3, 5)):requires_grad_()
    local w = nn.randn(3, 2):double()
    local v, i = x:topk(2)
    assert.falsy(i.requires_grad)
    ;(v * w):sum():backward()
    for r = 1, 3 do
      for c = 1, 5 do
        local want = 0
        for k = 1, 2 do if i[r][k] == c then want = w[r][k] end end
        assert.near(want, x.grad[r][c], 1e-12)
      end
    end
    assert.truthy(nn.gradcheck(function(t) return (t:sort(1)) end, {f64(matrix(4, 3))}))
  end)

  it("cumsum and cumprod are running sums and products", function()
    local m = matrix(3, 5)
    local s, p = f64(m):cumsum(2), f64(m):cumprod(2)
    for r = 1, 3 do
      local acc, prod = 0, 1
      for c = 1, 5 do
        acc, prod = acc + m[r][c], prod * m[r][c]
        assert.near(acc, s[r][c], 1e-12)
        assert.near(prod, p[r][c], 1e-12)
      end
    end
    local down = f64(m):cumsum(1)
    assert.near(m[1][2] + m[2][2] + m[3][2], down[3][2], 1e-12)
    assert.equal("i64", nn.tensor({1, 2, 3}, "u8"):cumsum(1):dtype())
    th.same(nn.tensor({1, 2, 3}, "i64"):cumprod(1), {1, 2, 6})
    assert.equal("f32", nn.ones(3):cumsum(1):dtype())
    th.fails(function() nn.ones(3):cumsum(2) end, "nn.cumsum", "dim 2")
  end)

  it("cumsum over many lanes (four at a time, shared among threads) adds as Lua does, both "
    .. "ways, along any dim", function()
    local R, C = 70, 1000 -- 70000 elements: two pieces; 70 rows: groups of four and two more
    local m = matrix(R, C)
    local x = f64(m):requires_grad_()
    local w = matrix(R, C)
    local s = x:cumsum(2)
    local loss = (s * f64(w)):sum()
    loss:backward() -- the gradient is w's cumulative sum from the end
    local got, grad = s:totable(), x.grad:totable()
    for r = 1, R do
      local acc, back = 0, 0
      for c = 1, C do
        acc = acc + m[r][c]
        assert.equal(acc, got[r][c])
        back = back + w[r][C + 1 - c]
        assert.equal(back, grad[r][C + 1 - c])
      end
    end
    local cube = nn.randn(8, 50, 200):to("f64") -- inner lanes: 200 accumulators a piece
    local down, t = cube:cumsum(2):totable(), cube:totable()
    for o = 1, 8, 3 do
      for i = 1, 200, 7 do
        local acc = 0
        for k = 1, 50 do
          acc = acc + t[o][k][i]
          assert.equal(acc, down[o][k][i])
        end
      end
    end
  end)

  it("cumprod's gradient is right where the input has zeros", function()
    for _, xs in ipairs{{2, 0, 3, 0.5}, {0, 0, 2, -1}, {1.5, -2, 0.5, 0}} do
      local w = {0.3, -1.2, 0.7, 2}
      local x = f64(xs):requires_grad_()
      ;(x:cumprod(1) * f64(w)):sum():backward()
      -- d/dx_k of sum_i w_i prod_{j<=i} x_j = sum_{i>=k} w_i prod_{j<=i, j~=k} x_j
      for k = 1, 4 do
        local want = 0
        for i = k, 4 do
          local prod = w[i]
          for j = 1, i do if j ~= k then prod = prod * xs[j] end end
          want = want + prod
        end
        assert.near(want, x.grad[k], 1e-12)
      end
      assert.truthy(nn.gradcheck(function(t) return t:cumprod(1) end, {f64(xs)}))
      -- forward mode: the tangent is the directional derivative
      local v = {0.5, 1, -0.25, 2}
      local _, t = nn.jvp(function(a) return a:cumprod(1) end, {f64(xs)}, {f64(v)})
      local up = f64(xs) + f64(v) * 1e-6
      local down = f64(xs) - f64(v) * 1e-6
      local fd = (up:cumprod(1) - down:cumprod(1)) / 2e-6
      th.same(t, fd:totable(), 1e-6)
    end
  end)

  it("all, any, isnan, isinf and allclose", function()
    local x = nn.tensor{{1, 0, 2}, {3, 4, 5}}
    assert.is_false(x:all()); assert.is_true(x:any())
    assert.is_true(nn.ones(3):all()); assert.is_false(nn.zeros(3):any())
    th.same(x:all(2), {0, 1}); th.same(x:any(1), {1, 1, 1})
    assert.same({2, 1}, dims(x:all(2, true)))
    assert.equal("u8", x:all(1):dtype())
    local y = nn.tensor{1, 0 / 0, 1 / 0, -1 / 0}
    th.same(y:isnan(), {0, 1, 0, 0}); th.same(y:isinf(), {0, 0, 1, 1})
    th.same(nn.tensor({1, 2}, "i64"):isinf(), {0, 0})
    assert.is_true(nn.allclose(x + 1, x + 1 + 1e-6))
    assert.is_false(nn.allclose(x + 1, x + 1.001))
    assert.is_true(nn.allclose(x + 1, x + 1.001, 1e-2))
    assert.is_true(nn.allclose(x, x + 0.5, 0, 0.6))
    assert.is_true(nn.allclose(nn.tensor{1 / 0}, nn.tensor{1 / 0}))
    assert.is_false(nn.allclose(nn.tensor{0 / 0}, nn.tensor{0 / 0}))
    -- equal: torch.equal's same shape and values
    assert.is_true(x:equal(x:clone())); assert.is_true(nn.equal(x, x:to("i64")))
    assert.is_false(x:equal(x:view(3, 2))); assert.is_false(x:equal(x + 1e-6))
    assert.is_false(nn.equal(nn.tensor{0 / 0}, nn.tensor{0 / 0}))
    th.fails(function() nn.equal(x, 1) end, "nn.equal", "argument 2")
    assert.is_true(x:allclose(x))
    th.fails(function() nn.allclose(nn.ones(3), nn.ones(2)) end, "nn.allclose", "{3}", "{2}")
  end)

  it("tril and triu keep a triangle", function()
    local m = matrix(3, 4)
    for _, k in ipairs{-1, 0, 1, 2} do
      local lo, up = f64(m):tril(k), f64(m):triu(k)
      for r = 1, 3 do
        for c = 1, 4 do
          assert.equal(c - r <= k and m[r][c] or 0, lo[r][c])
          assert.equal(c - r >= k and m[r][c] or 0, up[r][c])
        end
      end
    end
    local b = nn.ones(2, 3, 3):tril()
    assert.equal(6, b[2]:sum():item())
    th.fails(function() nn.ones(3):triu() end, "nn.triu", "{3}")
  end)

  it("flip, roll and repeat_interleave move elements as Lua index arithmetic says", function()
    local m = matrix(3, 4)
    local x = f64(m)
    local f2, f12 = x:flip(2), x:flip{1, 2}
    local r1, r2 = x:roll(1, 1), x:roll({-1, 5}, {1, 2})
    for r = 1, 3 do
      for c = 1, 4 do
        assert.equal(m[r][5 - c], f2[r][c])
        assert.equal(m[4 - r][5 - c], f12[r][c])
        assert.equal(m[(r - 2) % 3 + 1][c], r1[r][c])
        assert.equal(m[r % 3 + 1][(c - 6) % 4 + 1], r2[r][c])
      end
    end
    -- long f32, u8 and i64 rows (a reversed copy, rows shared among threads)
    for _, dt in ipairs{"f32", "u8", "i64"} do
      local i = nn.arange(0, 300000)
      local big = (i - (i / 251):floor() * 251):to(dt):view(300, 1000)
      local want, got = big:totable(), big:flip(2):totable()
      for r = 1, 300, 37 do
        for c = 1, 1000 do assert.equal(want[r][1001 - c], got[r][c]) end
      end
    end
    -- without dims, roll shifts the flattened tensor
    local flat = x:roll(2):view(-1)
    for i = 1, 12 do
      local j = (i - 3) % 12 + 1
      assert.equal(m[(j - 1) // 4 + 1][(j - 1) % 4 + 1], flat[i])
    end
    local rep = x:repeat_interleave({2, 0, 1, 3}, 2)
    assert.same({3, 6}, dims(rep))
    for r = 1, 3 do
      local want = {m[r][1], m[r][1], m[r][3], m[r][4], m[r][4], m[r][4]}
      for c = 1, 6 do assert.equal(want[c], rep[r][c]) end
    end
    th.same(nn.tensor{{1, 2}, {3, 4}}:repeat_interleave(2), {1, 1, 2, 2, 3, 3, 4, 4})
    th.same(nn.tensor{1, 2}:repeat_interleave(nn.tensor({3, 1}, "i64"), 1), {1, 1, 1, 2})
    th.fails(function() x:flip(3) end, "nn.flip", "dim 3", "{3,4}")
    th.fails(function() x:roll({1, 2}, 1) end, "nn.roll", "2 shifts", "1 dims")
    th.fails(function() x:repeat_interleave({1, 2}, 2) end, "nn.repeat_interleave", "{2}", "4")
    th.fails(function() x:repeat_interleave(-2, 1) end, "nn.repeat_interleave", "-2")
    -- gradients: each copy's gradient goes back to its source
    local xg = f64(m):requires_grad_()
    xg:repeat_interleave(3, 1):sum():backward()
    th.same(xg.grad, {{3, 3, 3, 3}, {3, 3, 3, 3}, {3, 3, 3, 3}})
  end)

  it("chunk and split are views along a dim", function()
    local x = nn.arange(10):float()
    local parts = x:chunk(3)
    assert.equal(3, #parts)
    th.same(parts[1], {0, 1, 2, 3}); th.same(parts[3], {8, 9})
    parts[2][1] = 100 -- a view: x changes too
    assert.equal(100, x[5])
    assert.equal(3, #nn.arange(6):chunk(4)) -- pieces of 2, as torch.chunk
    assert.equal(1, #nn.zeros(0, 2):chunk(3)) -- an empty dim: one empty piece, as PyTorch
    assert.equal(1, #nn.zeros(3):split(10))
    local m = nn.zeros(2, 7)
    local s = m:split(3, 2)
    assert.same({3, 3, 1}, {s[1]:size(2), s[2]:size(2), s[3]:size(2)})
    local t = m:split({2, 5}, 2)
    assert.same({2, 5}, {t[1]:size(2), t[2]:size(2)})
    t[2]:fill_(1)
    assert.equal(10, m:sum():item())
    th.fails(function() m:split({2, 4}, 2) end, "nn.split", "6", "size 7")
    th.fails(function() m:split(0) end, "nn.split", "0")
    th.fails(function() m:chunk(2, 3) end, "nn.chunk", "dim 3")
    th.fails(function() m:chunk(-1) end, "nn.chunk", "-1")
    -- gradients flow through the views
    local g = nn.randn(6):double():requires_grad_()
    local a, b = table.unpack(g:split(3))
    ;(a * 2 + b:sum()):sum():backward()
    th.same(g.grad, {2, 2, 2, 3, 3, 3})
  end)

  it("dot and norm", function()
    local u, v = randoms(6), randoms(6)
    local want = 0
    for i = 1, 6 do want = want + u[i] * v[i] end
    assert.near(want, nn.dot(f64(u), f64(v)):item(), 1e-12)
    assert.same({}, dims(nn.dot(f64(u), f64(v))))
    th.fails(function() nn.dot(nn.ones(3), nn.ones(4)) end, "nn.dot", "3 and 4")
    th.fails(function() nn.dot(nn.ones(3), nn.ones(3):double()) end, "nn.dot", "f32", "f64")
    th.fails(function() nn.dot(nn.ones(3, 1), nn.ones(3)) end, "nn.dot", "{3,1}")
    local m = matrix(3, 4)
    for _, p in ipairs{1, 2, 3, math.huge} do
      local n = f64(m):norm(p, 2)
      for r = 1, 3 do
        local acc = 0
        for c = 1, 4 do
          local a = math.abs(m[r][c])
          if p == math.huge then acc = math.max(acc, a) else acc = acc + a ^ p end
        end
        if p ~= math.huge then acc = acc ^ (1 / p) end
        assert.near(acc, n[r], 1e-12)
      end
    end
    assert.same({3, 1}, dims(f64(m):norm(2, 2, true)))
    -- the gradient of the 2-norm at zero is 0, as PyTorch's
    local z = nn.zeros(3):double():requires_grad_()
    z:norm():backward()
    th.same(z.grad, {0, 0, 0})
    assert.truthy(nn.gradcheck(function(a) return a:norm(2, 1) end, {f64(m)}))
  end)

  it("nn.utils.clip_grad_norm_ and clip_grad_value_", function()
    local model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model(nn.randn(5, 3)):pow(2):sum():backward()
    local grads = {}
    for i, p in ipairs(model:parameters()) do grads[i] = p.grad:double():view(-1):totable() end
    local function lua_norm(p)
      local acc = 0
      for _, g in ipairs(grads) do
        for _, x in ipairs(g) do
          if p == math.huge then acc = math.max(acc, math.abs(x)) else acc = acc + math.abs(x) ^ p end
        end
      end
      return p == math.huge and acc or acc ^ (1 / p)
    end
    local total = nn.utils.clip_grad_norm_(model, 0.1)
    assert.near(lua_norm(2), total, 1e-5 * total)
    local scale = 0.1 / (total + 1e-6)
    for i, p in ipairs(model:parameters()) do
      local g = p.grad:double():view(-1)
      for k, x in ipairs(grads[i]) do assert.near(x * scale, g[k], 1e-6) end
    end
    -- a large bound leaves the gradients alone, and other norms
    local before = model[1].weight.grad:clone()
    nn.utils.clip_grad_norm_(model:parameters(), 1e9)
    th.same(model[1].weight.grad, before:totable(), 0)
    assert.truthy(nn.utils.clip_grad_norm_(model, 1e9, math.huge) > 0)
    nn.utils.clip_grad_value_(model, 0.001)
    for _, p in ipairs(model:parameters()) do
      assert.truthy(p.grad:abs():max():item() <= 0.001 + 1e-9)
    end
    assert.equal(0, nn.utils.clip_grad_norm_({nn.zeros(2)}, 1)) -- no gradients
    th.fails(function() nn.utils.clip_grad_norm_(model, "1") end, "clip_grad_norm_", "max_norm")
    th.fails(function() nn.utils.clip_grad_value_(model, -1) end, "clip_grad_value_", "-1")
    th.fails(function() nn.utils.clip_grad_norm_(42, 1) end, "clip_grad_norm_", "number")
  end)

  it("says in help that x:numpy() is nn.save_npy", function()
    assert.truthy(require("nn.help").text(nn.save_npy):find("x:numpy()", 1, true))
  end)
end)
