-- tests/lua/fit_spec.lua: nn.fit on tiny problems: learning, history, hooks, checkpoints.

-- XOR with a little noise: 64 points, labels 1..2
local function xor_data()
  nn.manual_seed(11)
  local corners = nn.randint(0, 1, {64, 2}):float()
  local a, b = corners:select(2, 1), corners:select(2, 2)
  local y = ((a - b):abs() + 1):long()
  return corners * 2 - 1 + nn.randn(64, 2) * 0.1, y
end

local function xor_model()
  return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
end

local function params_of(m)
  local out = {}
  for name, p in m:named_parameters() do out[name] = p:totable() end
  return out
end

describe("nn.fit", function()
  it("learns XOR: the loss goes down and the accuracy is high", function()
    local x, y = xor_data()
    nn.manual_seed(1)
    local model = xor_model()
    local history = nn.fit(model, {x, y}, {epochs = 30, batch = 16, progress = false,
      optim = nn.optim.Adam(model, {lr = 0.05}), val = {x, y}})
    assert.equal(30, #history.train_loss)
    assert.is_true(history.train_loss[30] < 0.5 * history.train_loss[1])
    assert.equal(1, history.val_acc[30])
    assert.equal(30, #history.val_loss)
    assert.equal(30, #history.seconds)
    assert.is_true(model.training)
  end)

  it("calls the hooks and takes a schedule by name", function()
    local x, y = xor_data()
    local steps, epochs = 0, {}
    local model = xor_model()
    local opt = nn.optim.SGD(model, {lr = 0.1})
    nn.fit(model, {x, y}, {epochs = 2, batch = 32, progress = false, optim = opt,
      schedule = "linear",
      on_step = function(info) steps = steps + 1; assert.equal(2, info.steps) end,
      on_epoch = function(info) epochs[#epochs + 1] = info.epoch end})
    assert.equal(4, steps)
    assert.same({1, 2}, epochs)
    assert.near(0, opt.lr, 1e-12)
  end)

  it("trains with a learning rule", function()
    local x, y = xor_data()
    local model = xor_model()
    local opt = nn.optim.Adam(model, {lr = 0.05})
    local calls = 0
    local rule = {optim = opt}
    function rule:step(xb, yb)
      calls = calls + 1
      opt:zero_grad()
      local loss = nn.cross_entropy(model(xb), yb)
      loss:backward()
      opt:step()
      return loss:item()
    end
    function rule:predict(xb) return model(xb):argmax(2) end
    local history = nn.fit(model, {x, y}, {epochs = 20, batch = 16, rule = rule,
      progress = false, val = {x, y}})
    assert.equal(80, calls)
    assert.is_nil(history.val_loss[1])
    assert.is_true(history.val_acc[20] > 0.9)
  end)

  it("resumes from a checkpoint after the saved epoch", function()
    local path = os.tmpname()
    os.remove(path)
    local x, y = xor_data()
    local opts = function(model, epochs, extra)
      local o = {epochs = epochs, batch = 16, shuffle = false, progress = false,
        optim = nn.optim.Adam(model, {lr = 0.01})}
      for k, v in pairs(extra or {}) do o[k] = v end
      return o
    end
    nn.manual_seed(2)
    local straight = xor_model()
    local want = nn.fit(straight, {x, y}, opts(straight, 4))

    nn.manual_seed(2)
    local first = xor_model()
    nn.fit(first, {x, y}, opts(first, 2, {checkpoint = path}))
    local saved, meta = nn.load(path)
    assert.equal("2", meta.epoch)
    assert.truthy(saved["model.0.weight"])
    assert.truthy(saved["optim.1.exp_avg"])

    local resumed = xor_model()
    local seen = {}
    local got = nn.fit(resumed, {x, y}, opts(resumed, 4, {resume = path, checkpoint = path,
      on_epoch = function(info) seen[#seen + 1] = info.epoch end}))
    assert.same({3, 4}, seen)
    assert.equal(4, #got.train_loss)
    th.same(nn.tensor(got.train_loss), want.train_loss, 1e-5)
    local a, b = params_of(straight), params_of(resumed)
    for name, values in pairs(a) do th.same(nn.tensor(b[name]), values, 1e-5) end
    local _, meta2 = nn.load(path)
    assert.equal("4", meta2.epoch)
    os.remove(path)
  end)

  -- A training script run in a child process: 4 epochs of 4 shuffled batches, a checkpoint
  -- after each epoch; it kills itself with SIGKILL at step kill_at (counted from the start
  -- of this run), and writes the final parameters and losses to out when it gets there.
  local child = [[
    local path, out, kill_at, resume = arg[1], arg[2], tonumber(arg[3]), arg[4] == "resume"
    nn.manual_seed(11)
    local corners = nn.randint(0, 1, {64, 2}):float()
    local y = ((corners:select(2, 1) - corners:select(2, 2)):abs() + 1):long()
    local x = corners * 2 - 1 + nn.randn(64, 2) * 0.1
    nn.manual_seed(2)
    local model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    local steps = 0
    local h = nn.fit(model, {x, y}, {epochs = 4, batch = 16, shuffle = true, progress = false,
      optim = nn.optim.Adam(model, {lr = 0.01}), checkpoint = path,
      resume = resume and path or nil,
      on_step = function()
        steps = steps + 1
        if steps == kill_at then os.execute("kill -9 $PPID") end -- the shell's parent: us
      end})
    local t = {train_loss = nn.tensor(h.train_loss, "f64")}
    for name, p in model:named_parameters() do t[name] = p end
    nn.save(out, t)
  ]]

  it("resumes a run killed mid-epoch, with shuffling, bit for bit", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local script = dir .. "/train.lua"
    local f = assert(io.open(script, "w"))
    f:write(child)
    f:close()
    local relua = io.popen("readlink /proc/$PPID/exe"):read("l") -- the relua running busted
    local function run(ckpt, out, kill_at, mode)
      return os.execute(string.format("%s %s %s %s %d %s 2>/dev/null", relua, script, ckpt, out,
        kill_at or 0, mode or ""))
    end
    local function values(file)
      local t = nn.load(file)
      local out = {}
      for name, v in pairs(t) do out[name] = v:double():view(-1):totable() end
      return out
    end
    assert(run(dir .. "/straight.ckpt", dir .. "/straight.out"), "the uninterrupted run failed")
    local want = values(dir .. "/straight.out")
    assert.equal(4, #want.train_loss)
    for _, kill_at in ipairs{3, 6, 8, 15} do
      local ckpt, out = dir .. "/k" .. kill_at .. ".ckpt", dir .. "/k" .. kill_at .. ".out"
      local ok, how, code = run(ckpt, out, kill_at)
      assert.is_falsy(ok, "the run killed at step " .. kill_at .. " finished")
      assert.truthy(how == "signal" and code == 9 or how == "exit" and code == 128 + 9, how .. " " .. code)
      assert.is_nil(io.open(out), "no result from a killed run")
      -- the checkpoint of the last completed epoch is there, and intact
      local done = (kill_at - 1) // 4
      local have = io.open(ckpt)
      if done == 0 then
        assert.is_nil(have, "a checkpoint before the first epoch ended")
      else
        have:close()
        local _, meta = nn.load(ckpt)
        assert.equal(tostring(done), meta.epoch)
      end
      assert(run(ckpt, out, nil, done > 0 and "resume" or nil), "the resumed run failed")
      local got = values(out)
      for name, v in pairs(want) do
        assert.truthy(got[name], name)
        for i = 1, #v do
          assert(got[name][i] == v[i], string.format("killed at step %d: %s[%d] is %.17g, "
            .. "uninterrupted %.17g", kill_at, name, i, got[name][i], v[i]))
        end
      end
    end
    os.execute("rm -rf " .. dir)
  end)

  it("rejects bad data", function()
    local model = xor_model()
    th.fails(function() nn.fit(model, {nn.zeros(4, 2)}) end, "nn.fit: data must be a table {x, y}")
    th.fails(function() nn.fit(model, {nn.zeros(4, 2), nn.zeros(3, "i64")}) end,
      "nn.fit: data: x has 4 rows but y has 3")
    th.fails(function() nn.fit(model, {nn.zeros(4, 2), nn.ones(4, "i64")}, {epochs = 1.5}) end,
      "epochs must be")
  end)
end)

describe("errors from training code", function()
  it("name the bad labels", function()
    th.fails(function() nn.cross_entropy(nn.zeros(2, 3), nn.tensor({1, 4}, "i64")) end,
      "nn.cross_entropy", "4")
    th.fails(function() nn.cross_entropy(nn.zeros(2, 3), nn.tensor({0, 1}, "i64")) end,
      "nn.cross_entropy", "0")
  end)

  it("name the shapes", function()
    th.fails(function() nn.Linear(4, 2)(nn.zeros(5, 3)) end,
      "nn.Linear: input has 3 features, expected 4")
  end)
end)
