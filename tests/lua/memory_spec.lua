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
