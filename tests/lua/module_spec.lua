-- tests/lua/module_spec.lua: nn.Module trees, names, state dicts, layers, nn.init, nn.save.
local function names_of(m)
  local names = {}
  for name, p in m:named_parameters() do names[#names + 1] = name .. th.shape(p) end
  return table.concat(names, " ")
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return table.concat(keys, " ")
end

local function mlp()
  return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
end

local Net = nn.Module:extend("Net")
function Net:init(n)
  self.fc1 = nn.Linear(n, 5)
  self.act = nn.Tanh()
  self.fc2 = nn.Linear(5, 2, {bias = false})
  self.scale = self:parameter(nn.ones(2))
end
function Net:forward(x)
  return self.fc2(self.act(self.fc1(x))) * self.scale
end

describe("nn.Module", function()
  it("names parameters as PyTorch does, in registration order", function()
    assert.equal("0.weight{3,4} 0.bias{3} 2.weight{2,3} 2.bias{2}", names_of(mlp()))
    assert.equal("scale{2} fc1.weight{5,6} fc1.bias{5} fc2.weight{2,5}", names_of(Net(6)))
    local deep = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), Net(2))
    assert.equal("0.0.weight{2,2} 0.0.bias{2} 1.scale{2} 1.fc1.weight{5,2} 1.fc1.bias{5} "
      .. "1.fc2.weight{2,5}", names_of(deep))
  end)

  it("lists parameters, children and modules; counts parameters", function()
    local m = mlp()
    assert.equal(4, #m:parameters())
    assert.equal(m[1].weight, m:parameters()[1])
    assert.equal(3, #m:children())
    assert.equal(m[3], m:children()[3])
    assert.equal(4, #m:modules())
    assert.equal(4 * 3 + 3 + 3 * 2 + 2, m:num_params())
    assert.equal(3, #m)
    for _, p in ipairs(m:parameters()) do assert.is_true(p.requires_grad) end
  end)

  it("registers the modules of a ModuleList", function()
    local list = nn.ModuleList(nn.Linear(2, 2), nn.Linear(2, 1))
    list:add(nn.ReLU())
    assert.equal(3, #list)
    assert.equal("0.weight{2,2} 0.bias{2} 1.weight{1,2} 1.bias{1}", names_of(list))
    th.fails(function() list(nn.zeros(2)) end, "nn.ModuleList: has no forward")
  end)

  it("counts a shared parameter once", function()
    local lin = nn.Linear(3, 3)
    local m = nn.Sequential(lin, nn.ReLU(), lin)
    assert.equal(2, #m:parameters())
    assert.equal("0.bias 0.weight 2.bias 2.weight", sorted_keys(m:state_dict()))
  end)

  it("calls forward and runs a tree", function()
    local m = Net(3)
    local y = m(nn.randn(4, 3))
    assert.equal("{4,2}", th.shape(y))
    assert.equal("{7,2}", th.shape(mlp()(nn.randn(7, 4))))
  end)

  it("prints a tree with shapes", function()
    assert.equal("Sequential(\n  (0): Linear(in=4, out=3, bias=true)\n  (1): ReLU()\n"
      .. "  (2): Linear(in=3, out=2, bias=true)\n)", tostring(mlp()))
    assert.equal("Net(\n  scale={2}\n  (fc1): Linear(in=3, out=5, bias=true)\n  (act): Tanh()\n"
      .. "  (fc2): Linear(in=5, out=2, bias=false)\n)", tostring(Net(3)))
    assert.equal("LeakyReLU(negative_slope=0.1)", tostring(nn.LeakyReLU(0.1)))
    assert.equal("nn.Linear", tostring(nn.Linear))
  end)

  it("switches train and eval recursively", function()
    local m = nn.Sequential(nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(3)))
    assert.is_true(m[2][1].training)
    assert.equal(m, m:eval())
    assert.is_false(m.training)
    assert.is_false(m[2][1].training)
    m:train()
    assert.is_true(m[1].training)
  end)

  it("zero_grad sets gradients to nil", function()
    local m = mlp()
    m(nn.randn(2, 4)):sum():backward()
    assert.is_not_nil(m[1].weight.grad)
    m:zero_grad()
    for _, p in ipairs(m:parameters()) do assert.is_nil(p.grad) end
  end)

  it("fails clearly on a missing forward and on bad children", function()
    local Empty = nn.Module:extend("Empty")
    th.fails(function() Empty()(nn.zeros(1)) end, "nn.Empty: forward is not defined")
    th.fails(function() nn.Sequential(nn.Linear(1, 1), 3) end, "nn.Sequential: layer 2 is a number")
    th.fails(function() nn.Module:extend() end, "needs a name")
  end)
end)

describe("state dicts", function()
  it("share storage with the parameters and include buffers", function()
    local m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    local sd = m:state_dict()
    assert.equal("0.bias 0.weight 1.bias 1.num_batches_tracked 1.running_mean 1.running_var "
      .. "1.weight", sorted_keys(sd))
    nn.no_grad(function() sd["0.bias"]:fill_(7) end)
    th.same(m[1].bias, {7, 7, 7})
    m(nn.randn(4, 2))
    assert.equal(1, m:state_dict()["1.num_batches_tracked"]:item())
    assert.equal("i64", sd["1.num_batches_tracked"]:dtype())
  end)

  it("load into another model", function()
    local a, b = mlp(), mlp()
    b:load_state_dict(a:state_dict())
    local x = nn.randn(5, 4)
    th.same(b(x), a(x):totable())
  end)

  it("report missing, unexpected and mismatched keys", function()
    local m = mlp()
    local sd = mlp():state_dict()
    sd["0.bias"] = nil
    sd.foo = nn.zeros(1)
    th.fails(function() m:load_state_dict(sd) end,
      "load_state_dict: missing keys: 0.bias; unexpected keys: foo")
    sd = mlp():state_dict()
    sd["0.weight"] = nn.zeros(4, 3)
    th.fails(function() m:load_state_dict(sd) end,
      "shape mismatch for 0.weight: {4,3} in the file vs {3,4} in the model")
    th.fails(function() m:load_state_dict(sd, false) end, "shape mismatch for 0.weight")
  end)

  it("load partially when not strict, changing nothing on error", function()
    local m = mlp()
    local before = m[1].weight:clone()
    local sd = {["2.bias"] = nn.ones(2), extra = nn.ones(1)}
    local missing, unexpected = m:load_state_dict(sd, false)
    assert.same({"0.weight", "0.bias", "2.weight"}, missing)
    assert.same({"extra"}, unexpected)
    th.same(m[3].bias, {1, 1})
    th.fails(function() m:load_state_dict({["0.weight"] = nn.zeros(3, 4)}) end, "missing keys")
    th.same(m[1].weight, before:totable())
  end)

  it("round trip through nn.save and nn.load", function()
    local path = os.tmpname()
    local m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    m(nn.randn(6, 3))
    nn.save(path, m, {note = "test", epochs = 3})
    local sd, meta = nn.load(path)
    assert.equal("test", meta.note)
    assert.equal("3", meta.epochs)
    local copy = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    copy:load_state_dict(sd)
    m:eval()
    copy:eval()
    local x = nn.randn(5, 3)
    th.same(copy(x), m(x):totable())
    assert.equal(1, copy[2].num_batches_tracked:item())
    nn.save(path, {b = nn.ones(2), a = nn.zeros(3)})
    sd = nn.load(path)
    assert.equal("a b", sorted_keys(sd))
    os.remove(path)
    th.fails(function() nn.save(path, {a = print}) end, "nn.save: a is a function")
  end)

  it("convert dtypes in place", function()
    local m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    m:double()
    assert.equal("f64", m[1].weight:dtype())
    assert.equal("f64", m[2].running_mean:dtype())
    assert.equal("i64", m[2].num_batches_tracked:dtype())
    assert.is_true(m[1].weight.requires_grad)
    assert.equal(m[1].weight, m:parameters()[1])
    assert.equal("f64", m(nn.randn(3, 2):double()):dtype())
    m:float()
    assert.equal("f32", m[1].bias:dtype())
  end)
end)

describe("layers", function()
  it("Linear initializes as PyTorch, reproducibly", function()
    nn.manual_seed(3)
    local a = nn.Linear(100, 50)
    nn.manual_seed(3)
    local b = nn.Linear(100, 50)
    th.same(a.weight, b.weight:totable())
    local bound = 1 / math.sqrt(100)
    assert.is_true(a.weight:abs():max():item() <= bound)
    assert.is_true(a.weight:abs():max():item() > 0.9 * bound)
    assert.is_true(a.bias:abs():max():item() <= bound)
    assert.is_nil(nn.Linear(2, 3, {bias = false}).bias)
  end)

  it("Linear checks its input", function()
    local err = th.fails(function() nn.Linear(4, 2)(nn.zeros(2, 3)) end,
      "nn.Linear: input has 3 features, expected 4")
    assert.truthy(err:find("{2,3}", 1, true))
    th.fails(function() nn.Linear(-1, 2) end, "nn.Linear: in must be a non-negative integer")
  end)

  it("activation modules call their functions with their parameters", function()
    local x = nn.randn(3, 4)
    th.same(nn.ReLU()(x), nn.relu(x):totable())
    th.same(nn.LeakyReLU(0.2)(x), nn.leaky_relu(x, 0.2):totable())
    th.same(nn.Softmax(1)(x), nn.softmax(x, 1):totable())
    th.same(nn.GELU("tanh")(x), nn.gelu(x, "tanh"):totable())
    th.same(nn.Hardtanh(-0.5, 0.5)(x), nn.hardtanh(x, -0.5, 0.5):totable())
    -- the others against their formulas, element by element in plain Lua
    local function map(f)
      local out = {}
      for i, row in ipairs(x:totable()) do
        out[i] = {}
        for j, v in ipairs(row) do out[i][j] = f(v) end
      end
      return out
    end
    local function sigmoid(v) return 1 / (1 + math.exp(-v)) end
    local function softplus(v, beta) return math.log(1 + math.exp(beta * v)) / beta end
    th.same(nn.ELU()(x), map(function(v) return v > 0 and v or math.exp(v) - 1 end), 1e-5)
    th.same(nn.ELU(0.5)(x), map(function(v) return v > 0 and v or 0.5 * (math.exp(v) - 1) end), 1e-5)
    th.same(nn.SiLU()(x), map(function(v) return v * sigmoid(v) end), 1e-5)
    th.same(nn.Mish()(x), map(function(v) return v * math.tanh(softplus(v, 1)) end), 1e-5)
    th.same(nn.Softplus()(x), map(function(v) return softplus(v, 1) end), 1e-5)
    th.same(nn.Softplus(2)(x), map(function(v) return softplus(v, 2) end), 1e-5)
    th.same(nn.Sigmoid()(x), map(sigmoid), 1e-5)
    th.same(nn.Tanh()(x), map(math.tanh), 1e-5)
    local rows, want = x:totable(), {}
    for i, row in ipairs(rows) do -- log_softmax over the last dimension by default
      local m, z = math.max(table.unpack(row)), 0
      for _, v in ipairs(row) do z = z + math.exp(v - m) end
      want[i] = {}
      for j, v in ipairs(row) do want[i][j] = v - m - math.log(z) end
    end
    th.same(nn.LogSoftmax()(x), want, 1e-5)
    want = {}
    for i = 1, 3 do want[i] = {} end
    for j = 1, 4 do -- and over dim 1, down the columns
      local z = 0
      for i = 1, 3 do z = z + math.exp(rows[i][j]) end
      for i = 1, 3 do want[i][j] = rows[i][j] - math.log(z) end
    end
    th.same(nn.LogSoftmax(1)(x), want, 1e-5)
  end)

  it("Flatten, Identity, Dropout, LayerNorm, BatchNorm1d, Embedding", function()
    local x = nn.randn(2, 3, 4)
    assert.equal("{2,12}", th.shape(nn.Flatten()(x)))
    assert.equal(x, nn.Identity()(x))
    local d = nn.Dropout(0.5)
    d:eval()
    th.same(d(x), x:totable())
    d:train()
    local kept = d(nn.ones(1000)):gt(0):sum():item()
    assert.is_true(kept > 400 and kept < 600)
    local y = nn.LayerNorm(4)(x)
    assert.is_true(y:mean(3):abs():max():item() < 1e-5)
    local bn = nn.BatchNorm1d(3)
    local z = bn(nn.randn(8, 3) * 3 + 1)
    assert.is_true(z:mean(1):abs():max():item() < 1e-5)
    assert.is_true(bn.running_mean:abs():sum():item() > 0)
    local e = nn.Embedding(10, 3)
    assert.equal("{2,2,3}", th.shape(e(nn.tensor({{1, 2}, {10, 3}}, "i64"))))
  end)

  it("loss modules wrap the loss functions", function()
    local logits, target = nn.randn(4, 3), nn.tensor({1, 3, 2, 2}, "i64")
    th.same(nn.CrossEntropyLoss()(logits, target), nn.cross_entropy(logits, target):item())
    local opts = {label_smoothing = 0.1}
    th.same(nn.CrossEntropyLoss(opts)(logits, target),
      nn.cross_entropy(logits, target, opts):item())
    th.same(nn.MSELoss()(logits, logits), 0)
  end)

  it("have docs for help()", function()
    for _, name in ipairs({"Linear", "Sequential", "ReLU", "BatchNorm1d", "Module"}) do
      local e = nn._docs.byfn[nn[name]]
      assert.truthy(e and e.sig and e.doc, name)
    end
    assert.truthy(nn._docs.byfn[nn.init.kaiming_uniform_])
    assert.truthy(nn._docs.byfn[nn.fit])
  end)
end)

describe("nn.init", function()
  it("computes fans and gains", function()
    local fi, fo = nn.init.calculate_fan_in_and_fan_out(nn.zeros(8, 4, 3, 3))
    assert.equal(36, fi)
    assert.equal(72, fo)
    assert.near(math.sqrt(2), nn.init.calculate_gain("relu"), 1e-12)
    assert.near(math.sqrt(2 / (1 + 5)), nn.init.calculate_gain("leaky_relu", math.sqrt(5)), 1e-12)
    th.fails(function() nn.init.calculate_fan_in_and_fan_out(nn.zeros(3)) end, "2 or more dims")
  end)

  it("fills within the bounds and with the spread of the formulas", function()
    local t = nn.empty(200, 300)
    nn.init.kaiming_uniform_(t)
    local bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(300)
    assert.is_true(t:abs():max():item() <= bound)
    nn.init.kaiming_normal_(t, {mode = "fan_out", nonlinearity = "relu"})
    assert.near(math.sqrt(2 / 200), t:std():item(), 0.003)
    nn.init.xavier_uniform_(t)
    assert.is_true(t:abs():max():item() <= math.sqrt(6 / 500))
    nn.init.xavier_normal_(t, {gain = 2})
    assert.near(2 * math.sqrt(2 / 500), t:std():item(), 0.005)
    th.same(nn.init.zeros_(nn.empty(2)), {0, 0})
    th.same(nn.init.ones_(nn.empty(2)), {1, 1})
    th.same(nn.init.constant_(nn.empty(2), 3), {3, 3})
    th.fails(function() nn.init.zeros_(nn.zeros(2, "i64")) end, "nn.init.zeros_", "i64")
  end)

  it("makes orthogonal matrices", function()
    for _, shape in ipairs({{5, 3}, {3, 5}, {4, 4}}) do
      local q = nn.init.orthogonal_(nn.empty(shape))
      local small = shape[1] <= shape[2] and q:matmul(q:t()) or q:t():matmul(q)
      local n = math.min(shape[1], shape[2])
      assert.is_true((small - nn.eye(n)):abs():max():item() < 1e-5)
    end
    local q = nn.init.orthogonal_(nn.empty(3, 3), {gain = 2})
    assert.is_true((q:t():matmul(q) - nn.eye(3) * 4):abs():max():item() < 1e-4)
  end)

  it("works on parameters", function()
    local m = nn.Linear(3, 3)
    nn.init.zeros_(m.bias)
    th.same(m.bias, {0, 0, 0})
    assert.is_true(m.bias.requires_grad)
  end)
end)
