-- tests/lua/fuzz_spec.lua: every function and method, called with wrong arguments of many
-- kinds, fails with a Lua error or returns; the process never crashes.
describe("junk arguments", function()
  local function samples()
    local closed = nn.ones(2)
    getmetatable(closed).__close(closed)
    return {
      nn.tensor{{1, 2, 3}, {4, 5, 6}}, nn.tensor(1.5), nn.zeros(0, 3), nn.tensor({1, 2}, "i64"),
      nn.tensor({1, 0}, "u8"), nn.range(1, 6):view(2, 3):t(), closed,
    }
  end
  local junk = table.pack(nil, "a", {}, {1, 2}, {{1}, {2, 3}}, 1.5, -100, 0, 100, -1, 3, true,
    print, io.stdout)
  -- (functions that switch a global mode: detect_anomaly left on would make every later
  -- spec scan each op's output, a broadcast view's 2^62 elements too)
  local skip = {help = true, document = true, manual_seed = true, memory = true,
    detect_anomaly = true, set_grad_enabled = true}

  -- argument lists: junk alone, a tensor then junk, a tensor then two junk values
  local function calls(f, tensors)
    local n = 0
    for k = 1, junk.n do
      local j = junk[k]
      pcall(f, j)
      n = n + 1
      for _, t in ipairs(tensors) do
        pcall(f, t, j)
        pcall(f, t, j, j)
        pcall(f, t, 1, j)
        pcall(f, t, j, t)
        pcall(f, t, t, j)
        n = n + 5
      end
    end
    for _, t in ipairs(tensors) do
      pcall(f, t)
      pcall(f, t, t)
      pcall(f, t, -1, t, t)
      pcall(f, {t, t}, 2)
      n = n + 4
    end
    return n
  end

  it("module functions survive", function()
    local tensors = samples()
    local n = 0
    for name, f in pairs(nn) do
      if type(f) == "function" and not skip[name] then n = n + calls(f, tensors) end
    end
    assert.is_true(n > 1000)
  end)
  it("methods and metamethods survive", function()
    local tensors = samples()
    local mt = getmetatable(tensors[1])
    local seen = {}
    for _, topic in ipairs(nn._docs.topics) do
      for _, e in ipairs(nn._docs.bytopic[topic]) do
        if e.sig:match("^x:") and not seen[e.fn] then
          seen[e.fn] = true
          calls(e.fn, tensors)
        end
      end
    end
    for _, k in ipairs{"__add", "__sub", "__mul", "__div", "__pow", "__unm", "__len",
                       "__index", "__newindex", "__tostring", "__close", "__gc"} do
      calls(mt[k], samples())
    end
    th.same(nn.tensor{1, 2} + 1, {2, 3}) -- still working
  end)
end)
