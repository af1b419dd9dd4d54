-- scripts/fmnist_live.lua: the Fashion-MNIST MLP (784-256-128-10 ReLU, Adam 1e-3, batch 128)
-- trained by nn.fit with the live view on.
--
--   relua scripts/fmnist_live.lua [epochs=3] [png=fmnist_live.png]
--
-- The view shows the train loss per step with the test loss and accuracy per epoch, the
-- fraction of zero activations of both ReLU layers over time with their dead units (those
-- that were zero for every sample of the last few steps), and the ReLU partition of the
-- plane through three test images: a T-shirt, a sneaker and a bag, at (0,0), (1,0), (0,1).
-- Keys: p pauses training, l toggles the log scale, s saves a PNG, q closes the window
-- (training goes on). Without a display the view is saved as PNG every 5 s and at the end.
local nn = require "nn"

local epochs = math.tointeger(tonumber(arg and arg[1])) or 3
local png = arg and arg[2] or "fmnist_live.png"

nn.manual_seed(1)
local x, y = nn.data.fashion_mnist("train")
local xt, yt = nn.data.fashion_mnist("test")
local model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
  nn.Linear(128, 10))

-- the first test image of a class (1-based: 1 T-shirt/top, 8 sneaker, 9 bag)
local function first_of(class)
  for i = 1, yt:size(1) do
    if yt[i] == class then return i end
  end
end
local picks = {first_of(1), first_of(8), first_of(9)}

local history = nn.fit(model, {x, y}, {epochs = epochs, batch = 128, val = {xt, yt},
  optim = nn.optim.Adam(model, {lr = 1e-3}),
  viz = {
    title = "Fashion-MNIST: a 784-256-128-10 ReLU MLP (p pause, l log scale, q close)",
    path = png,
    plane = {xt[picks[1]], xt[picks[2]], xt[picks[3]]},
    labels = {1, 8, 9},
    extent = 0.25,
  }})
print(string.format("test accuracy %.2f%%", 100 * history.val_acc[#history.val_acc]))
local v = require("viz").last_view
if v and not v.headless and not v.closed then
  print("training done: the window stays for 15 s (q closes it, s saves it)")
  v:linger(15)
end
