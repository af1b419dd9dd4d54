-- tests/lua/habits_spec.lua: the mistakes a PyTorch user makes in the first hour are named,
-- or just work.

local function tiny_data(n)
  return {nn.randn(n, 2), nn.randint(1, 2, {n})}
end

describe("options", function()
  it("nn.fit names an unknown option and the nearest known one", function()
    local m = nn.Linear(2, 2)
    th.fails(function() nn.fit(m, tiny_data(8), {epoch = 3, progress = false}) end,
      "nn.fit: unknown option 'epoch' (did you mean epochs?)")
    th.fails(function() nn.fit(m, tiny_data(8), {lr = 0.1, optim = nn.optim.SGD(m, {lr = 1})}) end,
      "nn.fit: lr is for the default optimizer")
    th.fails(function() nn.fit(m, tiny_data(8), {schedule = nn.optim.schedule.cosine}) end,
      "nn.fit: schedule must be \"linear\", \"cosine\" or a schedule object", "got a function")
    th.fails(function() nn.fit(m, tiny_data(8), {loss = 3}) end, "nn.fit: loss must be a function")
    th.fails(function() nn.fit(m, tiny_data(8), {rule = {}}) end, "nn.fit: rule must be a learning rule")
    th.fails(function() nn.fit(m, tiny_data(8), 5) end, "nn.fit: options must be a table, got number")
  end)

  it("the loader, optimizers and schedules name unknown options", function()
    th.fails(function() nn.data.loader({nn.ones(3)}, {bacth = 2}) end,
      "nn.data.loader: unknown option 'bacth' (did you mean batch?)")
    th.fails(function() nn.optim.SGD(nn.Linear(2, 2), {lr = 0.1, momentom = 0.9}) end,
      "nn.optim.SGD: unknown option 'momentom' (did you mean momentum?)")
    local opt = nn.optim.SGD(nn.Linear(2, 2), {lr = 0.1})
    th.fails(function() nn.optim.schedule.cosine(opt, {totl = 10}) end,
      "unknown option 'totl' (did you mean total?)")
    th.fails(function() nn.Linear(2, 2, {biass = false}) end,
      "nn.Linear: unknown option 'biass' (did you mean bias?)")
  end)
end)

describe("the loader", function()
  it("takes a batch size alone, and every for over it is a new, reshuffled pass", function()
    local l = nn.data.loader({nn.range(1, 40)}, {batch = 8, shuffle = true})
    assert.equal(5, #l)
    local passes = {}
    for p = 1, 2 do
      local seen, order = {}, {}
      for xb in l do
        for _, v in ipairs(xb:totable()) do seen[#seen + 1] = v end
      end
      assert.equal(40, #seen)
      table.sort(seen)
      for i = 1, 40 do assert.equal(i, seen[i]) end
      passes[p] = order
    end
    local a, b = {}, {}
    for xb in l do a[#a + 1] = xb[1] end
    for xb in l do b[#b + 1] = xb[1] end
    local same = true
    for i = 1, #a do same = same and a[i] == b[i] end
    assert.is_false(same, "two passes gave the same order")
    local n = 0
    for xb in nn.data.loader({nn.ones(10, 2)}, 4) do n = n + xb:size(1) end
    assert.equal(10, n)
  end)

  it("with a seed, the passes are reproducible", function()
    local function order(l)
      local out = {}
      for xb in l do for _, v in ipairs(xb:totable()) do out[#out + 1] = v end end
      return out
    end
    local l1 = nn.data.loader({nn.range(1, 12)}, {batch = 5, shuffle = true, seed = 7})
    local l2 = nn.data.loader({nn.range(1, 12)}, {batch = 5, shuffle = true, seed = 7})
    assert.same(order(l1), order(l2))
    assert.same(order(l1), order(l2))
  end)
end)

describe("modules", function()
  it("register modules in plain tables and tensors that require grad", function()
    local Net = nn.Module:extend("HabitNet")
    function Net:init()
      self.layers = {nn.Linear(2, 3), nn.Linear(3, 1)}
      self.heads = {out = nn.Linear(1, 1)}
      self.scale = nn.ones(1):requires_grad_()
      self.cache = nn.ones(1) -- no grad: not a parameter
    end
    function Net:forward(x)
      for _, l in ipairs(self.layers) do x = l(x) end
      return self.heads.out(x) * self.scale
    end
    local m = Net()
    local names = {}
    for name in m:named_parameters() do names[#names + 1] = name end
    assert.same({"scale", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
      "heads.out.weight", "heads.out.bias"}, names)
    assert.equal(2, #m.layers)
    local y = m(nn.ones(4, 2))
    y:sum():backward()
    assert.is_true(nn.is_tensor(m.layers[1].weight.grad))
    assert.is_true(nn.is_tensor(m.scale.grad))
    m.layers[3] = nn.Linear(1, 1)
    assert.equal(9, #m:parameters())
    assert.truthy(tostring(m):find("(layers): ModuleList(", 1, true))
  end)

  it("state_dict gives detached tensors that share the parameters' storage", function()
    local m = nn.Sequential(nn.Linear(2, 2))
    local sd = m:state_dict()
    assert.is_false(sd["0.weight"].requires_grad)
    sd["0.weight"]:copy_(nn.ones(2, 2))
    th.same(m[1].weight, {{1, 1}, {1, 1}})
    assert.is_true(m[1].weight.requires_grad)
  end)

  it("m.forward(x) with a dot is named", function()
    local Net = nn.Module:extend("DotNet")
    function Net:init() self.fc = nn.Linear(2, 2) end
    function Net:forward(x) return self.fc(x) end
    local m = Net()
    th.fails(function() m.forward(nn.ones(1, 2)) end,
      "DotNet.forward: called with a tensor as self (use m:forward(x) or m(x), with a colon)")
    th.same(m:forward(nn.zeros(1, 2)), m.fc(nn.zeros(1, 2)):totable())
  end)
end)

describe("nn.fit interrupted", function()
  it("returns the history so far and keeps the weights", function()
    local m = nn.Linear(2, 2)
    local steps = 0
    local h = nn.fit(m, tiny_data(64), {epochs = 5, batch = 16, progress = false,
      on_step = function(info)
        steps = steps + 1
        if info.epoch == 3 and info.step == 2 then error("stdin:1: interrupted!") end
      end})
    assert.is_true(h.interrupted)
    assert.equal(2, #h.train_loss)
    assert.equal(10, steps)
    -- any other error goes on, with its message
    th.fails(function()
      nn.fit(m, tiny_data(8), {progress = false, on_step = function() error("boom") end})
    end, "boom")
  end)
end)

describe("what the first wave left out", function()
  it("class weights, padding_idx and BatchNorm1d on (N, C, L) check their arguments", function()
    local x, t = nn.randn(4, 3), nn.tensor({1, 2, 3, 1}, "i64")
    th.fails(function() nn.cross_entropy(x, t, {weight = nn.ones(2)}) end,
      "nn.cross_entropy: weight must be a float vector of one weight per class (3), not f32 {2}")
    th.fails(function() nn.cross_entropy(x, t, {weight = 2}) end,
      "nn.cross_entropy: option weight must be a tensor")
    local w = nn.ones(3):requires_grad_()
    th.fails(function() nn.cross_entropy(x, t, {weight = w}):backward() end,
      "the class weights get no gradient")
    -- equal weights change nothing; a weight of 0 removes a class from the mean
    local plain = nn.cross_entropy(x, t):item()
    assert.near(plain, nn.cross_entropy(x, t, {weight = nn.full({3}, 2.5)}):item(), 1e-6)
    local none = nn.cross_entropy(x, t, {reduction = "none"}):totable()
    local w0 = nn.cross_entropy(x, t, {weight = nn.tensor({0, 1, 1})}):item()
    assert.near((none[2] + none[3]) / 2, w0, 1e-6)
    th.fails(function() nn.Embedding(4, 2, {padding_idx = 5}) end,
      "nn.Embedding: padding_idx must be an index in 1..4 (or -4..-1), got 5")
    local e = nn.Embedding(4, 2, {padding_idx = -1})
    assert.equal(4, e.padding_idx)
    th.same(e.weight[4], {0, 0})
    th.fails(function() nn.BatchNorm1d(3)(nn.ones(2, 3, 4, 5)) end,
      "nn.BatchNorm1d: input must be (N, C) or (N, C, L), got shape {2,3,4,5}")
  end)
end)
