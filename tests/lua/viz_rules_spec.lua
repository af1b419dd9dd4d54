-- tests/lua/viz_rules_spec.lua: the live view of a learning rule, headless: nn.fit with
-- {rule = r, viz = ...} shows the rule's angles per layer over training in a panel of its
-- own (v:angles), which the PNG holds; a rule without angles gets no such panel.
local viz = require "viz"

local function texts(v)
  local set = {}
  for _, t in ipairs(v:_texts()) do set[t[1]] = true end
  return set
end

local function find_text(v, pattern)
  for _, t in ipairs(v:_texts()) do
    if t[1]:match(pattern) then return t[1] end
  end
end

local function problem()
  nn.manual_seed(0)
  local x, y = nn.data.spirals(40, 3)
  local model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
    nn.Linear(16, 3))
  return model, x, y
end

describe("the live view of a learning rule", function()
  it("shows the angles per layer over training in a panel of its own", function()
    local model, x, y = problem()
    local r = nn.rules.feedback_alignment(model, {seed = 1, lr = 0.01})
    local path = os.tmpname() .. ".png"
    local seen = {}
    local real = viz.View.angles
    viz.View.angles = function(self, name, step, deg)
      seen[#seen + 1] = {name, step, deg}
      return real(self, name, step, deg)
    end
    local ok, err = pcall(nn.fit, model, {x, y}, {rule = r, epochs = 3, batch = 30,
      progress = false, viz = {path = path, headless = true}})
    viz.View.angles = real
    assert(ok, err)
    local v = viz.last_view
    local t = texts(v)
    assert.truthy(t["angle to the true gradient, per layer"], "the panel's title")
    assert.truthy(find_text(v, "^0  ") and find_text(v, "^2  ") and find_text(v, "^4  "),
      "a series per Linear layer, by its name")
    local by_layer = {}
    for _, s in ipairs(seen) do
      by_layer[s[1]] = by_layer[s[1]] or {}
      table.insert(by_layer[s[1]], s)
      assert.is_true(s[3] >= 0 and s[3] <= 180)
    end
    assert.truthy(#by_layer["0"] >= 2, "more than one point over training")
    assert.equal(1, by_layer["0"][1][2], "the first after step 1")
    assert.equal(12, by_layer["0"][#by_layer["0"]][2], "the last at the end (4 steps x 3)")
    for _, s in ipairs(by_layer["4"]) do assert.near(0, s[3], 1e-3) end -- the last layer's
    local w, h = viz._read_png(path)
    assert.equal(1100, w)
    assert.equal(640, h)
    os.remove(path)
  end)

  it("shows no angles panel without a rule", function()
    local model, x, y = problem()
    nn.fit(model, {x, y}, {epochs = 1, batch = 30, progress = false,
      viz = {path = os.tmpname() .. ".png", headless = true}})
    assert.is_nil(texts(viz.last_view)["angle to the true gradient, per layer"])
  end)

  it("v:angles takes series like v:plot and names itself in errors", function()
    local v = viz.open{headless = true}
    v:angles("layer 1", {1, 2, 3}, {80, 60, 50})
    v:angles("layer 1", {45})
    v:save(os.tmpname() .. ".png")
    assert.truthy(texts(v)["angle to the true gradient, per layer"])
    assert.truthy(find_text(v, "^layer 1  45"))
    assert.has_error(function() v:angles(3, {1}) end)
    local ok, e = pcall(v.angles, v, "a", {1, 2}, {1})
    assert.is_false(ok)
    assert.truthy(tostring(e):find("v:angles: x has 2 values and y has 1", 1, true))
  end)
end)
