-- tests/lua/memory_spec.lua: the collector sees the C memory of tensors; <close> frees early.
local function rss_mb()
  local f = io.open("/proc/self/statm")
  if not f then return nil end
  local _, resident = f:read("n", "n")
  f:close()
  return resident * 4096 / 2 ^ 20
end

describe("memory", function()
  it("stays flat in a loop of temporary 1 MB tensors", function()
    if not rss_mb() then return end -- no /proc: nothing to measure
    if os.getenv("RELUA_ASAN") then return end -- ASan's quarantine keeps freed memory
    collectgarbage()
    local before = rss_mb()
    local peak = before
    for i = 1, 100000 do -- 100 GB in all, were nothing freed
      local t = nn.zeros(262144) -- 1 MB of f32, touched
      if i % 1000 == 0 then peak = math.max(peak, rss_mb()) end
    end
    -- earlier specs may leave blocks in the allocator's cache: what counts is the growth
    assert.is_true(peak - before < 170, ("RSS grew by %.0f MB"):format(peak - before))
  end)
  it("frees large tensors that died old, not only young ones", function()
    -- each tensor lives for 50 more: long enough to survive young collections; only full
    -- collections free them, and those must come before the dead ones pile up
    collectgarbage()
    local live = nn.memory()
    local ring, peak = {}, 0
    for i = 1, 1500 do -- 1.5 GB in all
      ring[i % 50 + 1] = nn.zeros(262144)
      peak = math.max(peak, nn.memory() - live)
    end
    assert.is_true(peak < 200 * 2 ^ 20, ("%.0f MB held at the peak"):format(peak / 2 ^ 20))
  end)
  it("nn.memory counts live bytes", function()
    collectgarbage()
    local live = nn.memory()
    local t = nn.zeros(1024, 1024)
    assert.is_true(nn.memory() - live >= 4 * 2 ^ 20)
    t = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_true(nn.memory() - live < 2 ^ 20)
  end)
  it("nn.memory counts live tensors, views included", function()
    collectgarbage()
    local _, _, before = nn.memory()
    local t = nn.rand(3)
    local v = t:view(3, 1)
    assert.equal(before + 2, select(3, nn.memory()))
    t, v = nil, nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.equal(before, select(3, nn.memory()))
  end)
  it("does not let small temporaries pile up between collections", function()
    -- The collector is told what each tensor's header costs (about 250 bytes), so dead
    -- tensors wait for a cycle about as long as Lua objects of that size would; a cycle
    -- comes after some multiple of the heap's size in allocation. Measured: one dead tensor
    -- per 100-250 bytes of heap at the peak. Told nothing, the collector sees only 16-byte
    -- boxes and lets one pile up per 15-30 bytes of heap, far more than the caches hold.
    collectgarbage()
    local _, _, before = nn.memory()
    local heap = collectgarbage("count") * 1024
    local a, b = nn.rand(1), nn.rand(1)
    local peak = 0
    for i = 1, 200000 do
      local c = a + b
      if i % 500 == 0 then peak = math.max(peak, select(3, nn.memory()) - before) end
    end
    assert.is_true(peak < heap / 50,
      ("%d dead tensors for a heap of %.0f KB"):format(peak, heap / 1024))
  end)
  it("collects dead large results before activation, gated, creation and lane ops, as before "
    .. "elementwise ones", function()
    -- In a fresh process (the collector's period adapts to what ran before): a loop of each op
    -- on 10^6 f32 holds its last result and little more. Without the collection before the
    -- op, dead results waited for the slack (8 MB: 4 to 9 results here) and the loop wrote
    -- to buffers long out of the caches (bilinear's forward took 1.6x as long).
    local relua = io.popen("readlink /proc/$PPID/exe"):read("l") -- the relua running busted
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local x, a, s, r = nn.randn(1000, 1000), nn.full({1}, 0.25), nn.full({1}, 1), nn.Rational()
      local ops = {
        add = function() return x + x end, prelu = function() return nn.prelu(x, a) end,
        sau = function() return nn.sau(x, a, s) end,
        rational = function() return nn.rational(x, r.numerator, r.denominator) end,
        relu_attention = function() return nn.relu_attention(x) end,
        bilinear = function() return nn.bilinear(x) end, glu = function() return nn.glu(x) end,
        randn = function() return nn.randn(1000, 1000) end, clone = function() return x:clone() end,
        sort = function() return (x:sort(2)), 12 end, -- 12: the values and i64 indices
        cumsum = function() return x:cumsum(2) end,
        flip = function() return x:flip(2) end}
      for name, op in pairs(ops) do
        collectgarbage()
        local base, peak, size = nn.memory(), 0, 0
        nn.no_grad(function()
          for _ = 1, 100 do
            local r, per = op()
            size = r:numel() * (per or 4)
            peak = math.max(peak, nn.memory() - base)
          end
        end)
        print(name, peak / size)
      end
    ]])
    f:close()
    local p = io.popen(relua .. " " .. script .. " 2>&1")
    local out = p:read("a")
    p:close()
    os.remove(script)
    local n = 0
    for name, held in out:gmatch("(%S+)\t(%S+)") do
      n = n + 1
      assert.is_true(tonumber(held) <= 2.5, ("%s: %s results held at the peak"):format(name, held))
    end
    assert.equal(12, n, out)
  end)
  it("<close> releases a tensor early", function()
    collectgarbage()
    local live = nn.memory()
    local keep
    do
      local t <close> = nn.zeros(1024, 1024)
      keep = t
      assert.is_true(nn.memory() - live >= 4 * 2 ^ 20)
    end
    assert.is_true(nn.memory() - live < 2 ^ 20) -- freed without a collection
    th.fails(function() return keep + 1 end, "nn.add: tensor was closed")
    th.fails(function() return keep:sum() end, "nn.sum: tensor was closed")
    th.fails(function() return #keep end, "tensor was closed")
    assert.truthy(tostring(keep):find("closed"))
  end)
  it("views keep their storage alive", function()
    local v
    do
      local t = nn.range(1, 4, "f32")
      v = t:view(2, 2)
    end
    collectgarbage()
    collectgarbage()
    th.same(v, {{1, 2}, {3, 4}})
  end)
end)
