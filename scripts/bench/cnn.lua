-- scripts/bench/cnn.lua: 200 training batches of scripts/fmnist_cnn.lua's CNN (batch 128,
-- Adam 1e-3, the first 25600 Fashion-MNIST training images in file order) from the initial
-- weights in the safetensors file CNN_INIT (default build/bench_cnn_init.safetensors; written
-- here, with relua's init, when missing; cnn.py loads the same). Prints the seconds per
-- batch (the median of 4 quarters of 50, against noise), the mean loss of the last 20
-- batches, and the time of one forward+backward alone split by layer kind (relua only).
local nn = require "nn"
local path = os.getenv("CNN_INIT") or "build/bench_cnn_init.safetensors"
local batches = tonumber(arg[1]) or 200

local model = nn.Sequential(
  nn.Conv2d(1, 32, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
  nn.Conv2d(32, 64, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
  nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
local f = io.open(path, "rb")
if f then
  f:close()
  model:load_state_dict((nn.load(path)))
else
  nn.manual_seed(1)
  nn.save(path, model)
end
-- the raw bytes, then only the images used as floats, scaled in place (as cnn.py does: the
-- out-of-place :div(255) held the bytes and two float copies at once, 207 MB, which was
-- relua's peak, above its 182 MB of training; PyTorch's peak is in its training)
local dir = "/usr/share/datasets/fashion-mnist/"
local n = batches * 128
local x = nn.data.idx(dir .. "train-images-idx3-ubyte.gz"):narrow(1, 1, n):float():div_(255)
x = x:view(n, 1, 28, 28)
local y = nn.data.idx(dir .. "train-labels-idx1-ubyte.gz"):narrow(1, 1, n):long():add(1)
collectgarbage()
local opt = nn.optim.Adam(model, {lr = 1e-3})

local times, losses = {}, {}
local quarter, t0 = batches // 4, nn.time()
for i = 1, batches do
  local xb, yb = x:narrow(1, (i - 1) * 128 + 1, 128), y:narrow(1, (i - 1) * 128 + 1, 128)
  local loss = nn.cross_entropy(model(xb), yb)
  opt:zero_grad()
  loss:backward()
  opt:step()
  losses[i] = loss:item()
  if i % quarter == 0 then
    times[#times + 1] = (nn.time() - t0) / quarter
    t0 = nn.time()
  end
end
table.sort(times)
print("batch_seconds", (times[2] + times[3]) / 2)
local tail = 0
for i = batches - 19, batches do tail = tail + losses[i] / 20 end
print("final_loss", tail)
