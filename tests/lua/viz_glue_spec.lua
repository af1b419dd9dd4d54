-- tests/lua/viz_glue_spec.lua: the Lua half of the live view (stdlib/viz/view.lua), headless:
-- v:watch (sparsity from the training forwards), v:partition (regions and decisions of a
-- model), viz.fit_hooks (nn.fit's live view), and the small C additions they use
-- (v:smoothing for one series, v:linger). Panels are checked by the strings they draw.
local viz = require "viz"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))

-- the strings the view draws, as a set
local function texts(v)
  local set = {}
  for _, t in ipairs(v:_texts()) do set[t[1]] = true end
  return set
end

-- the first drawn string matching pattern, or nil
local function find_text(v, pattern)
  for _, t in ipairs(v:_texts()) do
    if t[1]:match(pattern) then return t[1] end
  end
end

local function set_linear(fc, w, b)
  nn.no_grad(function()
    fc.weight:copy_(nn.tensor(w))
    fc.bias:copy_(nn.tensor(b))
  end)
end

-- whether some module of model still has forward hooks
local function hooked(model)
  for _, m in ipairs(model:modules()) do
    if rawget(m, "_forward_hooks") then return true end
  end
  return false
end

-- 2 -> 3 -> 2, both ReLU. On X, layer 1 is 6/12 zeros with unit 3 dead (always < 0);
-- layer 2 is 2/8 zeros, none dead.
local X = nn.tensor{{1, 2}, {-1, 3}, {2, -5}, {0.5, 0.5}}
local function known_model()
  local fc1, fc2 = nn.Linear(2, 3), nn.Linear(3, 2)
  set_linear(fc1, {{1, 0}, {0, 1}, {-1, -1}}, {0, 0, -10})
  set_linear(fc2, {{1, 1, 1}, {1, -0.5, 0}}, {0, 0})
  return nn.Sequential(fc1, nn.ReLU(), fc2, nn.ReLU())
end

-- 2 -> n -> 2 whose hidden units switch on the lines d_k . p = 0.3, d_k at angles k * pi / n:
-- n lines in general position, all crossings within [-2, 2]^2
local function lines_model(n)
  local w, b = {}, {}
  for k = 1, n do
    local a = (k - 1) * math.pi / n
    w[k], b[k] = {math.cos(a), math.sin(a)}, -0.3
  end
  local fc = nn.Linear(2, n)
  set_linear(fc, w, b)
  local out = nn.Linear(n, 2)
  set_linear(out, (function()
    local rows = {{}, {}}
    for k = 1, n do rows[1][k], rows[2][k] = 1, -1 end
    return rows
  end)(), {-0.5, 0.5})
  return nn.Sequential(fc, nn.ReLU(), out)
end

describe("viz glue", function()
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  describe("v:watch", function()
    it("names rows of nested models by the user's indexes", function()
      local v = viz.open{headless = true}
      local inner = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
      local model = nn.Sequential(nn.Linear(2, 3), inner, nn.ReLU())
      v:watch(model)
      model(nn.randn(4, 2))
      local t = texts(v)
      assert.equal("ReLU", model[2][2].__name)
      assert.truthy(t["model[2][2] ReLU"] and t["model[3] ReLU"])
    end)

    it("measures the activations of each training forward", function()
      local v = viz.open{headless = true}
      local model = known_model()
      local w = v:watch(model)
      model(X)
      local t = texts(v)
      assert.truthy(t["model[2] ReLU"] and t["model[4] ReLU"],
        "rows named as the model is indexed (model[2] is the first ReLU), and by class")
      assert.equal(model[2], model:modules()[3])
      assert.truthy(t["50%  1 dead"], "layer 1: 6 of 12 zeros, unit 3 dead")
      assert.truthy(t["25%  0 dead"], "layer 2: 2 of 8 zeros")
      assert.truthy(t["fraction of zeros, step 1"])
      assert.equal(1, w.columns)
      w:remove()
    end)

    it("counts zeros and dead units over the window since the last column", function()
      local v = viz.open{headless = true}
      local model = known_model()
      local w = v:watch(model, {every = 2})
      model(X)
      assert.equal(0, w.columns)
      assert.is_nil(texts(v)["activation sparsity"])
      -- unit 3 of layer 1 fires on this one: over the window, no unit is dead
      model(nn.tensor{{-20, -20}})
      assert.equal(1, w.columns)
      local t = texts(v)
      assert.truthy(t["53%  0 dead"], "layer 1: (6 + 2) of 15 zeros")
      assert.truthy(t["30%  0 dead"], "layer 2: (2 + 1) of 10 zeros")
      assert.truthy(t["fraction of zeros, step 2"])
      -- a manual column from what came since: nothing yet
      assert.is_false(w:column(10))
      model(X)
      assert.is_true(w:column(10))
      assert.truthy(texts(v)["fraction of zeros, step 10"])
      assert.truthy(texts(v)["50%  1 dead"], "the window restarted at the last column")
      w:remove()
    end)

    it("leaves eval forwards alone, and unwatches", function()
      local v = viz.open{headless = true}
      local model = known_model()
      local w = v:watch(model)
      assert.is_true(hooked(model))
      model:eval()
      model(X)
      nn.stats.regions(model, {xlim = {-1, 1}, ylim = {-1, 1}, res = 8})
      assert.equal(0, w.forwards)
      model:train()
      model(X)
      assert.equal(1, w.forwards)
      w:remove()
      assert.is_false(hooked(model))
      model(X)
      assert.equal(1, w.forwards)
      assert.equal(1, w.columns)
      assert.truthy(tostring(w):find("2 layers", 1, true))
    end)

    it("is cheap: a watched forward is the same forward", function()
      local model = known_model()
      local calls = 0
      local fc = model:modules()[2]
      local forward = fc.forward
      fc.forward = function(...) calls = calls + 1 return forward(...) end
      local v = viz.open{headless = true}
      local w = v:watch(model)
      model(X)
      assert.equal(1, calls, "no extra forward pass")
      w:remove()
    end)
  end)

  describe("v:partition", function()
    it("counts 1 + n + n(n-1)/2 regions for n lines in general position", function()
      for _, n in ipairs{1, 2, 4} do
        local model = lines_model(n)
        local v = viz.open{headless = true}
        local opts = {xlim = {-2, 2}, ylim = {-2, 2}, res = 256}
        local count = v:partition(model, opts)
        local want = 1 + n + n * (n - 1) // 2
        assert.equal(want, count)
        assert.equal(want, (nn.stats.regions(model, opts)))
        assert.truthy(texts(v)[want .. " regions"], n .. " lines")
      end
    end)

    it("prints the exact count where the grid misses small regions", function()
      -- three lines through nearly one point: the middle triangle is far smaller than a cell
      local model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
      nn.no_grad(function()
        model[1].weight:copy_(nn.tensor{{1, 0}, {0, 1}, {1, 1}})
        model[1].bias:copy_(nn.tensor{0, 0, -0.002})
      end)
      local v = viz.open{headless = true}
      local opts = {xlim = {-2, 2}, ylim = {-2, 2}, res = 32}
      assert.equal(6, (nn.stats.regions(model, opts)), "the grid sees 6")
      assert.equal(7, v:partition(model, opts))
      assert.truthy(texts(v)["7 regions"])
      opts.exact = false
      assert.equal(6, v:partition(model, opts))
      assert.truthy(texts(v)["6 regions"])
    end)

    it("draws the decision boundary, the points and a title, and restores the mode", function()
      local model = lines_model(3)
      model:train()
      local v = viz.open{headless = true, width = 400, height = 400}
      v:partition(model, {xlim = {-2, 2}, ylim = {-2, 2}, res = 64, title = "three lines",
        points = nn.tensor{{0, 0}, {1.5, 1.5}}, labels = nn.tensor({1, 2}, "i64")})
      assert.truthy(texts(v)["three lines"])
      assert.truthy(model.training and model:modules()[2].training, "modes restored")
      assert.is_false(hooked(model))
      -- the decision boundary: a near-black line
      local file = v:save(dir .. "/decision.png")
      local w, h, get = viz._read_png(file)
      local dark = 0
      for y = 1, h do
        for x = 1, w do
          local r, g, b = get(x, y)
          if r + g + b < 100 then dark = dark + 1 end
        end
      end
      assert.truthy(dark > 200, "a thick dark line where the class changes")
    end)

    it("maps the plane through three inputs, and matches nn.stats.regions", function()
      nn.manual_seed(3)
      local model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
      local a, b, c = nn.randn(5), nn.randn(5), nn.randn(5)
      local v = viz.open{headless = true}
      local count = v:partition(model, {plane = {a, b, c}, res = 64})
      assert.equal((nn.stats.regions(model, {plane = {a, b, c}, res = 64, exact = true})), count)
      assert.truthy((nn.stats.regions(model, {plane = {a, b, c}, res = 64})) <= count)
      assert.truthy(texts(v)[count .. " regions"])
      -- points are inputs, projected onto the plane: a -> (0, 0), b -> (1, 0), c -> (0, 1)
      local drawn
      local image = viz.View.partition_image
      viz.View.partition_image = function(self, ids, o) drawn = o return image(self, ids, o) end
      local p = a + 0.25 * (b - a) + 0.5 * (c - a)
      local ok, err = pcall(v.partition, v, model, {plane = {a, b, c}, res = 32,
        points = nn.stack({a, b, c, p}), labels = {1, 2, 3, 1}})
      viz.View.partition_image = image
      assert(ok, err)
      th.same(drawn.points, {{0, 0}, {1, 0}, {0, 1}, {0.25, 0.5}}, 1e-6)
      th.fails(function() v:partition(model, {plane = {a, b}}) end,
        "v:partition: plane must be {x0, x1, x2}")
      th.fails(function() v:partition(model, {plane = {a, b, c}, points = nn.zeros(2, 4)}) end,
        "v:partition: opts.points must be N inputs of 5 numbers")
      th.fails(function() v:partition(model, {plane = {a, a, c}}) end,
        "v:partition: the plane's three points are on one line")
    end)

    it("redraws every N training forwards until removed", function()
      local model = lines_model(2)
      local v = viz.open{headless = true}
      local count, handle = v:partition(model, {xlim = {-2, 2}, ylim = {-2, 2}, res = 64,
        every = 2})
      assert.equal(4, count)
      -- move both lines out of the window: one region
      nn.no_grad(function() model:modules()[2].bias:fill_(-10) end)
      model(X)
      assert.truthy(texts(v)["4 regions"], "not yet")
      model(X)
      assert.truthy(texts(v)["1 region"])
      handle.remove()
      assert.is_false(hooked(model))
    end)
  end)

  describe("viz.fit_hooks", function()
    local function problem()
      nn.manual_seed(0)
      local x, y = nn.data.spirals(20, 3)
      local model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
      return model, x, y
    end

    it("runs nn.fit's live view headless and writes the PNG", function()
      local model, x, y = problem()
      local path = dir .. "/fit.png"
      local drawn
      local image = viz.View.partition_image
      viz.View.partition_image = function(self, ids, o) drawn = o return image(self, ids, o) end
      local ok, err = pcall(nn.fit, model, {x, y}, {epochs = 2, batch = 16, val = {x, y},
        progress = false, viz = {path = path, headless = true}})
      viz.View.partition_image = image
      assert(ok, err)
      assert.equal(x, drawn.points, "the training points, by default")
      assert.equal(y, drawn.labels)
      assert.truthy(drawn.xlim[1] < x:select(2, 1):min():item(), "limits around the data")
      local w, h = viz._read_png(path)
      assert.equal(1100, w)
      assert.equal(640, h)
      local v = viz.last_view
      local t = texts(v)
      assert.truthy(t["ReLU partition, step 8"], "4 steps an epoch, partition at the end")
      assert.truthy(find_text(v, "^%d+ regions?$"))
      assert.truthy(find_text(v, "^train  ") and find_text(v, "^val  ")
        and find_text(v, "^val accuracy %(right%)  "), "accuracy on an axis of its own")
      assert.truthy(t["accuracy"], "the right axis's label")
      assert.truthy(t["model[2] ReLU"])
      assert.is_false(hooked(model), "the hooks go when training ends")
    end)

    it("takes viz = true and opts.viz_path", function()
      local model, x, y = problem()
      local path = dir .. "/fit2.png"
      nn.fit(model, {x, y}, {epochs = 1, batch = 32, progress = false, viz = true,
        viz_path = path})
      assert.truthy(io.open(path, "rb"))
    end)

    it("goes on without the partition when the model takes no (N, 2) input", function()
      nn.manual_seed(0)
      local model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Flatten(), nn.Linear(12, 3))
      local x, y = nn.randn(24, 3, 2), nn.randint(1, 3, {24})
      local h = nn.fit(model, {x, y}, {epochs = 2, batch = 8, progress = false,
        viz = {path = dir .. "/seq.png", headless = true}})
      assert.equal(2, #h.train_loss)
      assert.truthy(texts(viz.last_view)["model[2] ReLU"], "the sparsity is there")
      assert.is_nil(texts(viz.last_view)["ReLU partition"])
    end)

    -- a view that says it has a window and is paused for the first `paused` looks, or closed
    -- from step `closed_at` on; everything else goes to a real headless view
    local function fake_view(paused, closed_at)
      local real = viz.open{headless = true}
      local state = {looks = 0, waits = 0, plots = 0}
      local fake = setmetatable({}, {__index = function(_, k)
        if k == "headless" then return false end
        if k == "backend" then return "window" end
        if k == "paused" then
          state.looks = state.looks + 1
          return state.looks <= paused
        end
        if k == "closed" then return closed_at ~= nil and state.plots >= closed_at end
        if k == "wait" then return function() state.waits = state.waits + 1 return true end end
        local f = real[k]
        if type(f) ~= "function" then return f end
        return function(_, ...)
          if k == "plot" then state.plots = state.plots + 1 end
          return f(real, ...)
        end
      end})
      return fake, state
    end

    it("waits while paused (key p), then trains on", function()
      local model, x, y = problem()
      local fake, state = fake_view(3)
      local h = nn.fit(model, {x, y}, {epochs = 2, batch = 16, progress = false,
        viz = {view = fake}})
      assert.equal(2, #h.train_loss)
      assert.equal(3, state.waits)
      assert.equal(8, state.plots, "one train point a step")
    end)

    it("trains on without the view once it is closed (key q)", function()
      local model, x, y = problem()
      local fake, state = fake_view(0, 3)
      local h = nn.fit(model, {x, y}, {epochs = 2, batch = 16, val = {x, y}, progress = false,
        viz = {view = fake}})
      assert.equal(2, #h.train_loss)
      assert.equal(3, state.plots, "nothing drawn after the window closed")
      assert.is_false(hooked(model))
    end)
  end)

  describe("C additions", function()
    it("smooths one series alone", function()
      local v = viz.open{headless = true}
      v:plot("train", {1, 2, 3}, {1, 2, 3})
      v:plot("val", {1, 2, 3}, {1, 2, 3})
      assert.equal(0, v:smoothing(0, "val"))
      local t = texts(v)
      assert.truthy(t["val  3"], "raw")
      assert.truthy(t["train  2.327"], "the panel's 0.6")
      v:smoothing(nil, "val")
      assert.truthy(texts(v)["val  2.327"], "the panel's again")
      th.fails(function() v:smoothing(1, "val") end, "v:smoothing: w must be a number in [0, 1)")
      th.fails(function() v:smoothing(0.5, 3) end, "v:smoothing: the series name must be a string")
    end)

    it("lingers only with a window", function()
      local v = viz.open{headless = true}
      local t0 = nn.time()
      assert.is_false(v:linger(5))
      assert.truthy(nn.time() - t0 < 1)
      th.fails(function() v:linger(-1) end, "v:linger: seconds must be a number in [0, 3600]")
    end)
  end)

  it("names the function in errors", function()
    local v = viz.open{headless = true}
    local model = known_model()
    th.fails(function() v:watch() end, "v:watch: expected a model (an nn module), got nil")
    th.fails(function() v:watch(model, {evry = 2}) end, "v:watch: unknown option 'evry' (did you mean every?)")
    th.fails(function() v:watch(model, {every = 0}) end,
      "v:watch: every must be a positive integer")
    th.fails(function() v:watch(model, 3) end, "v:watch: options must be a table")
    th.fails(function() v:watch(model, {probe = 1}) end, "v:watch: probe must be a function")
    th.fails(function() v:watch(nn.Sequential(nn.Linear(2, 2))) end,
      "v:watch: the model has no rectifier modules")
    th.fails(function() v.watch(5, model) end, "v:watch: expected a view as self")
    th.fails(function() v:partition(model) end, "v:partition: expected options")
    th.fails(function() v:partition(model, {}) end, "v:partition: give xlim and ylim, or plane")
    th.fails(function() v:partition({}, {xlim = {0, 1}, ylim = {0, 1}}) end,
      "v:partition: expected a model")
    th.fails(function() v:partition(model, {xlim = {0, 1}, ylim = {0, 1}, res = 1}) end,
      "v:partition: res must be an integer in [2, 8192], got 1")
    th.fails(function() v:partition(model, {xlim = {1, 0}, ylim = {0, 1}, res = 4}) end,
      "v:partition: opts.xlim must be {lo, hi} with lo < hi")
    th.fails(function() v:partition(model, {xlim = {0, 1}, ylim = {0, 1}, colour = 1}) end,
      "v:partition: unknown option 'colour'")
    th.fails(function() v:partition(model, {xlim = {0, 1}, ylim = {0, 1}, every = 1.5}) end,
      "v:partition: every must be a positive integer")
    th.fails(function() v:partition(model, {xlim = {0, 1}, ylim = {0, 1}, res = 4,
      points = {{1, 2}}, labels = {1, 2}}) end, "v:partition: 1 points but 2 labels")
    th.fails(function() viz.fit_hooks(nil, {}) end, "viz.fit_hooks: expected a model")
    th.fails(function() viz.fit_hooks(model, 5) end, "viz.fit_hooks: options must be a table")
    th.fails(function() viz.fit_hooks(model, {viz = {paht = "x"}}) end,
      "viz.fit_hooks: unknown option 'paht' (did you mean path?)")
    th.fails(function() viz.fit_hooks(model, {viz = {save_every = 0}}) end,
      "viz.fit_hooks: save_every must be")
    local y = nn.tensor({1, 2, 1, 2}, "i64")
    th.fails(function() nn.fit(model, {X, y}, {viz = {every = -1}}) end,
      "viz.fit_hooks: every must be a positive integer")
    assert.is_false(hooked(model), "nothing was left half-done")
  end)

  it("documents every function where help finds it", function()
    local docs = viz._docs
    for _, f in ipairs{viz.View.watch, viz.View.partition, viz.fit_hooks, viz.View.linger} do
      local e = docs.byfn[f]
      assert(e and e.sig and #e.doc > 20)
      assert.equal("Live view", e.topic)
    end
    assert.equal("v:watch", docs.byfn[viz.View.watch].fname)
    assert.equal("v:partition", docs.byfn[viz.View.partition].fname)
    assert.equal("viz.fit_hooks", docs.byfn[viz.fit_hooks].fname)
    local w = viz.open{headless = true}:watch(known_model())
    assert.equal("watcher:column", docs.byfn[w.column].fname)
    assert.equal("watcher:remove", docs.byfn[w.remove].fname)
    w:remove()
    local help = require "nn.help"
    assert.truthy(help.text(viz.View.watch):find("v:watch(model", 1, true))
    assert.truthy(help.text("Live view"):find("v:partition(model", 1, true))
  end)
end)
