-- scripts/spirals_live.lua: watch a ReLU network carve the plane while it learns.
--
--   relua scripts/spirals_live.lua [epochs=150] [png=spirals_live.png]
--
-- Three interleaved spiral arms, a 2-64-64-3 ReLU MLP, Adam. The live view shows the loss
-- per step, the fraction of zero activations of each ReLU layer over time (with its dead
-- units), and the ReLU partition of the input plane: every linear region in its own color,
-- the decision boundary in black, the training points on top. Keys: p pauses training,
-- l toggles the log scale, s saves a PNG, q closes the window (training goes on).
-- Without a display the view is drawn offscreen and saved as PNG.
local nn = require "nn"
local viz = require "viz"

local epochs = math.tointeger(tonumber(arg and arg[1])) or 150
local png = arg and arg[2] or "spirals_live.png"

nn.manual_seed(0)
local x, y = nn.data.spirals(200, 3)
local model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
  nn.Linear(64, 3))
local opt = nn.optim.Adam(model, {lr = 2e-3})

local v = viz.open{title = "three spirals: a 2-64-64-3 ReLU MLP learning (p pause, q close)",
  width = 1100, height = 640}
-- The sparsity panel from the activations of the training forwards (no extra forward):
-- a column every 5 steps, the fraction of zeros over those steps and the units never on.
local watcher = v:watch(model, {every = 5})
local plane = {xlim = {-1.3, 1.3}, ylim = {-1.3, 1.3}, res = 200, points = x, labels = y}
-- With a window, the partition is redrawn every epoch; offscreen, only what is saved counts.
local partition_every = v.headless and 25 or 1

local function accuracy()
  return nn.no_grad(function()
    model:eval()
    local acc = model(x):argmax(2):eq(y):float():mean():item()
    model:train()
    return acc
  end)
end

local step, acc = 0, 0
for epoch = 1, epochs do
  for xb, yb in nn.data.loader({x, y}, {batch = 32, shuffle = true}) do
    local loss = nn.cross_entropy(model(xb), yb)
    opt:zero_grad()
    loss:backward()
    opt:step()
    step = step + 1
    v:plot("train", step, loss:item())
  end
  acc = accuracy()
  v:plot("accuracy", step, acc)
  if epoch % partition_every == 0 or epoch == epochs then
    plane.title = string.format("ReLU partition, epoch %d, accuracy %.1f%%", epoch, 100 * acc)
    v:partition(model, plane)
  end
  if epoch % 25 == 0 or epoch == epochs then
    print(string.format("epoch %3d  accuracy %.1f%%", epoch, 100 * acc))
  end
  -- v:update() would draw the window when due, keeping the view under 5% of the time; a
  -- net this small outruns the eye, so each epoch is drawn and shown for 20 ms instead
  v:linger(0.02)
  while v.paused do v:wait() end -- key p
end
watcher:remove()
print(string.format("final training accuracy %.1f%%", 100 * acc))

if v.headless then
  print("no display: saved " .. v:save(png))
else
  print("training done: the window stays for 15 s (q closes it, s saves it)")
  v:linger(15)
end
