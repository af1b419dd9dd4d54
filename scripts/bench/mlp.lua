-- scripts/bench/mlp.lua: one epoch of the Fashion-MNIST MLP (784-256-128-10 ReLU, Adam 1e-3,
-- batch 128, batches in file order), the best of `epochs` epochs (default 2: the first also
-- fills the allocator's cache), and the tiny-graph autograd cost, the best time per graph over
-- batches for 1.5 s; mlp.py is PyTorch's.
local nn = require "nn"
nn.manual_seed(1)
local x, y = nn.data.fashion_mnist("train")
local model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
  nn.Linear(128, 10))
local opt = nn.optim.Adam(model, {lr = 1e-3})
local epochs = tonumber(arg[1]) or 2

local function epoch()
  for xb, yb in nn.data.loader({x, y}, {batch = 128}) do
    local loss = nn.cross_entropy(model(xb), yb)
    opt:zero_grad()
    loss:backward()
    opt:step()
  end
end

local best = math.huge
for _ = 1, epochs do
  local t0 = nn.time()
  epoch()
  best = math.min(best, nn.time() - t0)
end
print("epoch_seconds", best)

-- ((w*x+b):relu()):sum():backward() on 4-element tensors
local w, b = nn.rand(4):requires_grad_(), nn.rand(4):requires_grad_()
local v = nn.rand(4)
local tiny, start, batches = math.huge, nn.time(), 0
repeat
  local n, t0 = 5000, nn.time()
  for _ = 1, n do ((w * v + b):relu()):sum():backward() end
  tiny, batches = math.min(tiny, (nn.time() - t0) / n), batches + 1
until batches >= 3 and nn.time() - start >= 1.5
print("tiny_graph", tiny)
