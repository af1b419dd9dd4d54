-- tests/lua/viz_spec.lua: the live view, headless. Each panel is drawn to PNG, read back
-- (viz._read_png) and checked by its pixels: the colors that must be there, the strings the
-- view drew (v:_texts), and what a bad argument says. The window side is tests/viz/run.
local viz = require "viz"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))

local function path(name) return dir .. "/" .. name end

local function files()
  local list = {}
  local p = io.popen("ls -A '" .. dir .. "'")
  for f in p:lines() do list[#list + 1] = f end
  p:close()
  table.sort(list)
  return list
end

-- r, g, b of 0xRRGGBB
local function rgb(c) return c >> 16 & 255, c >> 8 & 255, c & 255 end

-- a color mixed towards b by t, as the canvas does it
local function mix(a, b, t)
  local out = 0
  for shift = 16, 0, -8 do
    local ca, cb = a >> shift & 255, b >> shift & 255
    out = out | (math.floor(ca + (cb - ca) * t + 0.5) << shift)
  end
  return out
end

-- the saved view as a table of pixel counts by color (0xRRGGBB), and its size
local function histogram(v, name)
  local file = v:save(path(name))
  local w, h, get = viz._read_png(file)
  local counts = {}
  for y = 1, h do
    for x = 1, w do
      local r, g, b = get(x, y)
      local c = r << 16 | g << 8 | b
      counts[c] = (counts[c] or 0) + 1
    end
  end
  return counts, w, h, get
end

-- the strings the view draws, as a set, and the first position of each
local function texts(v)
  local set = {}
  for _, t in ipairs(v:_texts()) do
    set[t[1]] = set[t[1]] or {x = t[2], y = t[3]}
  end
  return set
end

-- the legend's value of a series: TensorBoard's debiased moving average of ys, weight w
local function debiased(ys, w)
  local ema, last = 0, nil
  for k, y in ipairs(ys) do
    ema = w * ema + (1 - w) * y
    last = ema / (1 - w ^ k)
  end
  return string.format("%.4g", last)
end

local TRAIN, VAL, WHITE = 0x2a6fdb, 0xe8772e, 0xffffff
local BACKGROUND, FRAME, DECISION = 0xf4f5f7, 0xc9ccd1, 0x15171a

describe("viz", function()
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("opens headless views", function()
    local v = viz.open{headless = true, width = 320, height = 200, title = "t"}
    assert.is_true(v.headless)
    assert.equal(320, v.width)
    assert.equal(200, v.height)
    assert.equal("t", v.title)
    assert.equal("viz.View 320x200 (offscreen)", tostring(v))
    assert.is_true(v:update())
    assert.equal("boolean", type(viz.available()))
    local counts, w, h = histogram(v, "empty.png")
    assert.equal(320, w)
    assert.equal(200, h)
    assert.truthy(counts[BACKGROUND] > 1000)
    assert.truthy(texts(v)["waiting for data"])
  end)

  describe("loss panel", function()
    it("draws each series raw and smoothed, in its color, with a legend", function()
      local v = viz.open{headless = true, width = 640, height = 400}
      for i = 1, 200 do
        v:plot("train", i, 2 * math.exp(-i / 50) + 0.2 * math.sin(i))
        if i % 5 == 0 then v:plot("val", i, 2 * math.exp(-i / 60) + 0.3) end
      end
      local counts = histogram(v, "loss.png")
      assert.truthy((counts[TRAIN] or 0) > 200, "the smoothed train line")
      assert.truthy((counts[VAL] or 0) > 200, "the smoothed val line")
      local t = texts(v)
      assert.truthy(t["loss"] and t["step"])
      local legend = 0
      for s in pairs(t) do
        if s:match("^train  ") or s:match("^val  ") then legend = legend + 1 end
      end
      assert.equal(2, legend)
    end)

    it("draws the raw points as a faint line under the smoothed one", function()
      local v = viz.open{headless = true, width = 640, height = 400}
      for i = 1, 200 do v:plot("train", i, i % 2) end -- raw: a zigzag; smoothed: near 0.5
      v:smoothing(0.95)
      local counts = histogram(v, "raw.png")
      assert.truthy((counts[mix(TRAIN, WHITE, 0.68)] or 0) > 1000, "the faint raw line")
      assert.truthy((counts[TRAIN] or 0) > 300, "the smoothed line")
      v:smoothing(0) -- the raw points only, as the strong line
      counts = histogram(v, "raw0.png")
      assert.truthy((counts[mix(TRAIN, WHITE, 0.68)] or 0) < 500, "only anti-aliased edges")
      assert.truthy((counts[TRAIN] or 0) > 1000)
    end)

    it("smooths with TensorBoard's debiased moving average", function()
      local v = viz.open{headless = true}
      v:plot("train", {1, 2, 3}, {1, 2, 3})
      -- w = 0.6: ema 0.4, 1.04, 1.824; debiased 1, 1.625, 1.824 / (1 - 0.216) = 2.3265
      assert.truthy(texts(v)["train  2.327"])
      assert.equal(0.6, v:smoothing())
      v:smoothing(0)
      assert.truthy(texts(v)["train  3"])
      v:smoothing(0.9)
      assert.truthy(texts(v)["train  " .. debiased({1, 2, 3}, 0.9)])
    end)

    it("takes numbers, tables and tensors, and y alone", function()
      local v = viz.open{headless = true}
      v:plot("a", {1, 2, 3}, {3, 2, 1})
      v:plot("b", nn.tensor{1, 2, 3}, nn.tensor({{1, 2, 3}}, "f64"))
      v:plot("c", nn.tensor{5, 4, 3})
      v:plot("c", 2) -- x = 4
      v:plot("d", 1, 0 / 0) -- dropped: NaN points do not reach the axes
      local t = texts(v)
      assert.truthy(t["a  " .. debiased({3, 2, 1}, 0.6)])
      assert.truthy(t["b  " .. debiased({1, 2, 3}, 0.6)])
      assert.truthy(t["c  " .. debiased({5, 4, 3, 2}, 0.6)])
    end)

    it("switches to a log scale", function()
      local v = viz.open{headless = true}
      for i = 1, 100 do v:plot("train", i, 10 / i) end
      v:plot("train", 101, 0) -- not drawable on a log scale: skipped there
      assert.is_false(v:log())
      assert.is_true(v:log(true))
      local t = texts(v)
      assert.truthy(t["log scale"])
      assert.truthy(t["1"] and t["0.1"] and t["10"], "decade ticks")
      assert.truthy((histogram(v, "log.png")[TRAIN] or 0) > 200)
      assert.is_false(v:log(false))
      assert.is_nil(texts(v)["log scale"])
    end)

    it("labels its axes", function()
      local v = viz.open{headless = true}
      v:plot("train", 1, 1)
      v:labels("epoch", "accuracy")
      local t = texts(v)
      assert.truthy(t["epoch"] and t["accuracy"])
    end)
  end)

  it("gives a series a y axis of its own on the right", function()
    local v = viz.open{headless = true, width = 700, height = 400}
    for i = 1, 100 do v:plot("train", i, 3 * math.exp(-i / 20)) end
    for i = 10, 100, 10 do v:plot("val accuracy", i, 0.5 + 0.45 * (1 - math.exp(-i / 30))) end
    v:right_axis("val accuracy", "accuracy")
    local t = texts(v)
    assert.truthy(t["accuracy"] and t["loss"])
    assert.truthy(t["val accuracy (right)  0.917"] and t["train  0.0219"])
    -- the right ticks: accuracy's own range (0.65 .. 0.90), right of the plot, 0.90 on top
    assert.truthy(t["0.65"] and t["0.90"] and t["2.5"])
    assert.truthy(t["0.90"].y < t["0.65"].y)
    assert.truthy(t["0.65"].x > t["100"].x and t["2.5"].x < t["20"].x)
    th.fails(function() v:right_axis(3) end, "v:right_axis: the series name must be a string")
  end)

  it("says which class each marker of the partition is", function()
    local v = viz.open{headless = true, width = 500, height = 500}
    local ids, pts, labels = {}, {}, {}
    for i = 1, 8 do ids[i] = {} for j = 1, 8 do ids[i][j] = i + j end end
    for i = 1, 30 do pts[i], labels[i] = {(i % 10) / 10, (i // 10) / 3}, 1 + i % 3 end
    v:partition_image(ids, {xlim = {0, 1}, ylim = {0, 1}, points = pts, labels = labels})
    local t = texts(v)
    assert.truthy(t["class"], "a legend")
    for _, k in ipairs({"1", "2", "3"}) do
      assert.truthy(t[k] and t[k].y == t["class"].y and t[k].x > t["class"].x, "class " .. k)
    end
    assert.truthy(t["class"].y > t["0.0"].y, "below the plot")
    assert.truthy(t["1"].x < t["2"].x and t["2"].x < t["3"].x)
    -- no labels, no legend
    v:partition_image(ids, {xlim = {0, 1}, ylim = {0, 1}, points = pts})
    assert.is_nil(texts(v)["class"])
  end)

  describe("sparsity panel", function()
    it("draws layers x time with fractions and dead counts", function()
      local v = viz.open{headless = true, width = 640, height = 300}
      for s = 1, 50 do v:sparsity({"fc1", "fc2"}, {0.1, 0.95}, {3, 12}, s * 10) end
      local t = texts(v)
      assert.truthy(t["fc1"] and t["fc2"])
      assert.truthy(t["10%  3 dead"] and t["95%  12 dead"])
      assert.truthy(t["10"] and t["500"], "the first and last steps")
      local _, _, _, get = histogram(v, "sparsity.png")
      -- the heatmap ends left of the stats text; 0.95 (fc2) is brighter than 0.1 (fc1)
      local function brightness(label)
        local r, g, b = get(t[label].x - 20, t[label].y + 6)
        return r + g + b
      end
      assert.truthy(brightness("95%  12 dead") > brightness("10%  3 dead") + 150)
    end)

    it("spans its colors over the fractions shown, so that small changes show", function()
      local v = viz.open{headless = true, width = 640, height = 300}
      -- fc1 moves from 50% to 55% zeros over training, fc2 stays at 56%
      for s = 1, 50 do v:sparsity({"fc1", "fc2"}, {0.50 + 0.001 * s, 0.56}, nil, s) end
      local t = texts(v)
      -- the scale: 10 points around the middle of 50.1% .. 56% (53.05%), labeled on the bar
      assert.truthy(t["48.0%"] and t["58.1%"], "the bar's labels")
      assert.is_nil(t["0.5"])
      local _, _, _, get = histogram(v, "sparsity_scale.png")
      local function brightness(x, y)
        local r, g, b = get(x, y)
        return r + g + b
      end
      local y1, y2 = t["fc1"].y + 6, t["fc2"].y + 6
      local left, right = t["fc1"].x + 60, t["55%"].x - 40
      assert.truthy(brightness(right, y1) > brightness(left, y1) + 100, "fc1's change shows")
      assert.truthy(brightness(left, y2) > brightness(left, y1) + 100, "fc2 vs fc1 shows")
    end)

    it("adds layers as they come, and steps by one by default", function()
      local v = viz.open{headless = true}
      v:sparsity({"a"}, {0.5})
      v:sparsity({"a", "b"}, nn.tensor{0.25, 1})
      local t = texts(v)
      assert.truthy(t["25%"] and t["100%"])
      assert.truthy(t["fraction of zeros, step 2"])
    end)

    it("measures activation tensors", function()
      local v = viz.open{headless = true}
      v:activations({"h1", "h2"}, {nn.tensor{{0, 1, 0}, {0, 2, 0}}, nn.tensor{{1, 1}, {1, 0}}}, 7)
      local t = texts(v)
      assert.truthy(t["67%  2 dead"], "4 of 6 zeros, units 1 and 3 dead")
      assert.truthy(t["25%  0 dead"])
      th.fails(function() v:activations({"h"}, {{1, 2}}) end, "v:activations: tensors[1] must be a tensor")
      th.fails(function() v:activations({"h"}, {nn.zeros(0, 3)}) end, "v:activations: tensors[1] is empty")
    end)
  end)

  describe("partition panel", function()
    -- a 3-region grid: left third 7, middle 8, right 9; class 1 left of the middle, else 2
    local H, W = 30, 30
    local function grid()
      local ids, classes = {}, {}
      for i = 1, H do
        ids[i], classes[i] = {}, {}
        for j = 1, W do
          ids[i][j] = j <= 10 and 7 or j <= 20 and 8 or 9
          classes[i][j] = j <= 15 and 1 or 2
        end
      end
      return ids, classes
    end

    -- the colors covering more than `least` pixels, other than the view's neutral tones
    local function big_colors(counts, least)
      local found = {}
      for c, n in pairs(counts) do
        if n > least and c ~= WHITE and c ~= BACKGROUND and c ~= FRAME then
          found[#found + 1] = c
        end
      end
      return found
    end

    it("colors each region, and counts them", function()
      local v = viz.open{headless = true, width = 400, height = 400}
      local ids = grid()
      v:partition_image(ids)
      assert.equal(3, #big_colors(histogram(v, "regions.png"), 2000))
      assert.truthy(texts(v)["3 regions"])
      v:partition_image(nn.tensor(ids, "i64"), {xlim = {-1, 1}, ylim = {-1, 1}})
      assert.truthy(texts(v)["3 regions"])
      assert.equal(3, #big_colors(histogram(v, "regions2.png"), 2000))
      v:partition_image({{1, 2}, {3, 4}})
      assert.truthy(texts(v)["4 regions"])
      -- a count given (an exact one, which the grid may not show in full) is printed
      v:partition_image({{1, 2}, {3, 4}}, {regions = 5})
      assert.truthy(texts(v)["5 regions"])
      th.fails(function() v:partition_image({{1}}, {regions = 0}) end,
        "v:partition_image", "opts.regions must be a positive integer")
    end)

    it("keeps a region's color when the id stays", function()
      local a = viz.open{headless = true, width = 300, height = 300}
      local b = viz.open{headless = true, width = 300, height = 300}
      a:partition_image({{42, 42}, {42, 42}})
      b:partition_image({{42}})
      assert.same(big_colors(histogram(a, "a.png"), 1000), big_colors(histogram(b, "b.png"), 1000))
    end)

    it("draws the decision boundary and the data points", function()
      local v = viz.open{headless = true, width = 400, height = 400}
      local ids, classes = grid()
      v:partition_image(ids)
      assert.is_nil(histogram(v, "plain.png")[DECISION])
      v:partition_image(ids, {
        classes = classes, xlim = {0, 1}, ylim = {0, 1},
        points = {{0.2, 0.5, 1}, {0.8, 0.5, 2}, {0.5, 0.9, 1}},
        title = "XOR",
      })
      local counts = histogram(v, "decision.png")
      assert.truthy((counts[DECISION] or 0) > 300, "a thick line down the middle")
      assert.truthy((counts[TRAIN] or 0) > 20, "class 1 markers")
      assert.truthy((counts[VAL] or 0) > 20, "class 2 markers")
      assert.truthy(texts(v)["XOR"])
      v:partition_image(ids, {points = nn.tensor{{5, 5}, {25, 25}}, labels = nn.tensor({2, 2}, "i64")})
      assert.truthy((histogram(v, "points.png")[VAL] or 0) > 40)
    end)
  end)

  it("lays out every panel that has data", function()
    local v = viz.open{headless = true}
    v:plot("train", {1, 2}, {1, 0.5})
    v:sparsity({"fc"}, {0.5}, {1})
    v:partition_image({{1, 2}})
    local t = texts(v)
    assert.truthy(t["loss"] and t["activation sparsity"] and t["ReLU partition"])
    local counts = histogram(v, "all.png")
    assert.truthy((counts[TRAIN] or 0) > 100)
  end)

  it("saves atomically", function()
    local v = viz.open{headless = true, width = 100, height = 80}
    local file = path("atomic.png")
    local f = assert(io.open(file, "w"))
    f:write("old")
    f:close()
    local before = files()
    assert.equal(file, v:save(file))
    assert.same(before, files(), "no temporary file is left behind")
    local w, h = viz._read_png(file)
    assert.equal(100, w)
    assert.equal(80, h)
    th.fails(function() v:save(dir .. "/missing/x.png") end, "v:save: cannot write", "missing/x.png")
    assert.same(before, files())
    th.fails(function() viz._read_png(path("nothing.png")) end, "viz._read_png: cannot read")
  end)

  it("keeps the data after close", function()
    local v = viz.open{headless = true}
    v:plot("train", 1, 1)
    v:close()
    assert.is_false(v:update())
    assert.is_true(v.closed)
    v:plot("train", 2, 0.5)
    assert.truthy((histogram(v, "closed.png")[TRAIN] or 0) > 50)
    v = nil
    collectgarbage()
  end)

  it("is never paused without a window", function()
    local v = viz.open{headless = true}
    v.paused = true
    assert.is_false(v.paused)
    assert.is_false(v:wait(0.01))
    th.fails(function() v.width = 3 end, "only v.paused can be set")
  end)

  it("names the function in errors", function()
    local err = th.fails(function() viz.open{width = -5} end)
    assert.equal("viz.open: width must be a positive integer, got -5", err)
    th.fails(function() viz.open{height = 2.5} end, "viz.open: height must be a positive integer, got 2.5")
    th.fails(function() viz.open{width = 100000} end, "viz.open: width must be at most 16384")
    th.fails(function() viz.open{widht = 3} end, "viz.open: unknown option", "widht")
    th.fails(function() viz.open("big") end, "viz.open: options must be a table")
    th.fails(function() viz.open{title = 3} end, "viz.open: title must be a string")
    local v = viz.open{headless = true}
    th.fails(function() v:plot(1, 2, 3) end, "v:plot: the series name must be a string, got 1")
    th.fails(function() v:plot("a", {1, 2}, {1}) end, "v:plot: x has 2 values and y has 1")
    th.fails(function() v:plot("a", "x", 1) end, "v:plot: x must be a number, a table of numbers or a tensor")
    th.fails(function() v:plot("a", {1, "b"}, {1, 2}) end, "v:plot: x[2] must be a number")
    th.fails(function() v.plot(5, "a", 1) end, "v:plot: expected a view as self")
    th.fails(function() v:smoothing(1) end, "v:smoothing: w must be a number in [0, 1), got 1")
    th.fails(function() v:log("yes") end, "v:log: on must be true or false")
    th.fails(function() v:sparsity({"a"}, {1.5}) end, "v:sparsity: fractions[1] must be in [0, 1], got 1.5")
    th.fails(function() v:sparsity({"a", "b"}, {0.5}) end, "v:sparsity: 2 layers but 1 fractions")
    th.fails(function() v:sparsity({}, {}) end, "v:sparsity: layers must hold 1 to 4096 names")
    th.fails(function() v:sparsity({"a"}, {0.5}, {-1}) end, "v:sparsity: dead[1] must be a count")
    th.fails(function() v:sparsity({"a"}, {0.5}, {1.5}) end, "v:sparsity: dead must hold integers, got 1.5")
    th.fails(function() v:partition_image({{1, 2}, {3}}) end, "v:partition_image: ids[2] has 1 elements, unlike row 1 with 2")
    th.fails(function() v:partition_image({{1.5}}) end, "v:partition_image: ids must hold integers, got 1.5")
    th.fails(function() v:partition_image(nn.zeros(3)) end, "v:partition_image: ids must be a 2-D tensor or a table of rows, got a tensor of shape {3}")
    th.fails(function() v:partition_image({}) end, "v:partition_image: ids must be a grid of 1 to 32768 rows")
    th.fails(function() v:partition_image({{1}}, {xlim = {1, 0}}) end, "v:partition_image: opts.xlim must be {lo, hi} with lo < hi")
    th.fails(function() v:partition_image({{1}}, {colour = 1}) end, "v:partition_image: unknown option", "colour")
    th.fails(function() v:partition_image({{1, 2}}, {classes = {{1}}}) end, "v:partition_image: opts.classes is 1x1 but ids is 1x2")
    th.fails(function() v:partition_image({{1}}, {points = {{1, 2}}, labels = {1, 2}}) end, "v:partition_image: 1 points but 2 labels")
    th.fails(function() v:partition_image({{1}}, {points = nn.zeros(2, 3)}) end, "v:partition_image: opts.points must be an n x 2 tensor")
    th.fails(function() v:save(3) end, "v:save: path must be a string")
    -- nothing was half-done: the view still draws
    assert.truthy(texts(v)["waiting for data"])
  end)

  it("documents every function where nn.help finds it", function()
    local docs = viz._docs
    for _, name in ipairs{"open", "available", "update_all"} do
      local e = docs.byfn[viz[name]]
      assert(e and e.sig and e.doc, "viz." .. name)
      assert.equal("viz." .. name, e.fname)
    end
    for _, name in ipairs{"plot", "log", "smoothing", "labels", "sparsity", "activations",
                          "partition_image", "update", "wait", "save", "close"} do
      local e = docs.byfn[viz.View[name]]
      assert(e and e.sig and e.doc, "v:" .. name)
      assert.equal("v:" .. name, e.fname)
    end
    local topic = docs.bytopic["Live view"]
    assert.truthy(#topic >= 14)
  end)
end)
