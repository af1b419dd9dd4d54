-- tests/viz/window.lua BUILD: the live view in a real window (run by tests/viz/run, under
-- relua, with DISPLAY set to a private Xvfb and the current directory a scratch one).
-- Prints "ok N - name" or "not ok N - name" per check.
local build = arg[1] or "build"
package.cpath = build .. "/?.so;" .. package.cpath
local viz = require "viz"

local n = 0
local function check(name, f)
  n = n + 1
  local ok, err = pcall(f)
  if ok then
    print(("ok %d - %s"):format(n, name))
  else
    print(("not ok %d - %s"):format(n, name))
    print("# " .. tostring(err):gsub("\n", "\n# "))
  end
end

-- the same data into every view given
local function feed(views)
  local ids = {}
  for i = 1, 40 do
    ids[i] = {}
    for j = 1, 40 do ids[i][j] = (i + j > 40 and 1 or 0) + (i > j / 2 + 5 and 2 or 0) end
  end
  for _, v in ipairs(views) do
    for i = 1, 300 do
      v:plot("train", i, 2 * math.exp(-i / 60) + 0.1 * math.sin(i / 3))
      if i % 10 == 0 then v:plot("val", i, 2 * math.exp(-i / 70) + 0.2) end
    end
    for s = 1, 30 do v:sparsity({"fc1", "fc2"}, {s / 30, 0.4}, {s // 3, 1}, s) end
    v:partition_image(ids, {xlim = {-1, 1}, ylim = {-1, 1}, points = {{0, 0, 1}, {0.5, -0.5, 2}}})
  end
end

local function same_pixels(a, b)
  local wa, ha, ga = viz._read_png(a)
  local wb, hb, gb = viz._read_png(b)
  assert(wa == wb and ha == hb, ("sizes differ: %dx%d vs %dx%d"):format(wa, ha, wb, hb))
  local differ = 0
  for y = 1, ha do
    for x = 1, wa do
      local r1, g1, b1 = ga(x, y)
      local r2, g2, b2 = gb(x, y)
      if r1 ~= r2 or g1 ~= g2 or b1 ~= b2 then differ = differ + 1 end
    end
  end
  assert(differ == 0, differ .. " pixels differ")
end

local idle_calls = 0
if relua then relua.on_idle = function() idle_calls = idle_calls + 1 end end

local v, h
check("a display is available", function() assert(viz.available() == true) end)

check("viz.open opens a window", function()
  v = viz.open{title = "window test", width = 800, height = 560}
  h = viz.open{title = "window test", width = 800, height = 560, headless = true}
  assert(not v.headless, "the view is headless")
  assert(tostring(v) == "viz.View 800x560 (window)", tostring(v))
end)

check("the window shows the same pixels as the headless PNG", function()
  feed{v, h}
  assert(v:update())
  v:_screenshot("shot.png")
  h:save("headless.png")
  same_pixels("shot.png", "headless.png")
end)

check("the window redraws at most 30 times a second", function()
  -- a training loop's pace on a test clock: data and an update every millisecond for 3 s of
  -- the view's time; redraws are counted, nothing waits, and the machine's speed is no factor
  local frames, steps = v.frames, 3000
  for step = 1, steps do
    v:_clock(step / 1000)
    v:plot("train", 300 + step, 0.1)
    h:plot("train", 300 + step, 0.1)
    v:update()
  end
  v:_clock()
  local drawn = v.frames - frames
  -- a redraw costs no test time, so one is due every 1/30 s: 3 s give 90 (the first at once)
  assert(drawn <= 3 * 30 + 1, drawn .. " redraws in 3 s")
  assert(drawn >= 3 * 30 - 3, "only " .. drawn .. " redraws in 3 s: a due redraw was skipped")
end)

check("key l toggles the log scale", function()
  assert(v:log() == false)
  v:_key("l")
  v:update()
  assert(v:log() == true)
  v:_key("l")
  v:update()
  assert(v:log() == false)
end)

check("key p pauses and v:wait waits while paused", function()
  v:_key("p")
  v:update()
  assert(v.paused == true)
  assert(v:wait(0.05) == true)
  v:_key("p")
  assert(v:wait(1) == false, "p did not resume")
  assert(v.paused == false)
end)

check("key s saves a PNG in the current directory", function()
  v:_key("s")
  v:update()
  local w, hh = viz._read_png("relua-view-1.png")
  assert(w == 800 and hh == 560, w .. "x" .. hh)
end)

check("the idle hook keeps windows drawn and chains the previous one", function()
  assert(relua, "not running under relua")
  assert(type(relua.on_idle) == "function")
  v:plot("val", 400, 0.1)
  h:plot("val", 400, 0.1)
  local frames = v.frames
  local before = idle_calls
  relua.on_idle()
  assert(idle_calls == before + 1, "the previous relua.on_idle was not called")
  -- the redraw is due at most 1/30 s (or 24 times the last redraw's cost) later
  for _ = 1, 200 do
    if v.frames > frames then break end
    os.execute("sleep 0.02")
    relua.on_idle()
  end
  assert(v.frames > frames, "on_idle did not redraw")
end)

check("a resized window draws at its new size", function()
  v:_resize(700, 500)
  for _ = 1, 100 do
    v:update()
    if v.width == 700 then break end
    os.execute("sleep 0.02")
  end
  assert(v.width == 700 and v.height == 500, v.width .. "x" .. v.height)
  v:_screenshot("resized.png")
  local w, hh = viz._read_png("resized.png")
  assert(w == 700 and hh == 500, w .. "x" .. hh)
  v:_resize(800, 560)
  for _ = 1, 100 do
    v:update()
    if v.width == 800 then break end
    os.execute("sleep 0.02")
  end
  assert(v.width == 800 and v.height == 560, v.width .. "x" .. v.height)
end)

check("the close button closes the window, not the process", function()
  v:_close_button()
  assert(v:update() == false)
  assert(v.closed and tostring(v) == "viz.View 800x560 (closed)", tostring(v))
  v:plot("train", 5000, 0.05)
  h:plot("train", 5000, 0.05)
  v:save("after.png")
  h:save("after-headless.png")
  same_pixels("after.png", "after-headless.png")
  relua.on_idle() -- no window left: nothing to do, no crash
end)

check("key q closes a window", function()
  local q = viz.open{width = 300, height = 200}
  assert(not q.headless)
  q:_key("q")
  assert(q:update() == false)
  assert(q.closed)
end)

check("a collected view takes its window along", function()
  local w = viz.open{width = 200, height = 100}
  w:plot("train", 1, 1)
  w:update()
  w = nil
  collectgarbage()
  collectgarbage()
  viz.update_all()
end)

print("1.." .. n)
