-- scripts/fmnist_cnn.lua: a small CNN on Fashion-MNIST, the "2 Conv+pooling" of the benchmark
-- table (91.6%): conv(1->32, 3x3, pad 1)-ReLU-maxpool 2 -> conv(32->64, 3x3, pad 1)-ReLU-
-- maxpool 2 -> Linear(3136->128)-ReLU -> Linear(128->10), Adam 1e-3, batch 128, with nn.fit's
-- progress bar and the test accuracy after every epoch. The pixels (0..1) are standardized
-- by the training set's mean and standard deviation (0.286, 0.353), as torchvision's
-- Normalize does: 5 epochs gain about 0.9 points by it, in PyTorch as here.
-- `relua scripts/fmnist_cnn.lua [epochs [seed]]` (10 epochs and seed 1 by default); saves
-- the model to fmnist_cnn.safetensors.
local nn = require "nn"
local epochs = tonumber(arg and arg[1]) or 10
nn.manual_seed(tonumber(arg and arg[2]) or 1)
local x, y = nn.data.fashion_mnist("train")
local xt, yt = nn.data.fashion_mnist("test")
local mean, std = x:mean():item(), x:std():item()
x, xt = ((x - mean) / std):view(-1, 1, 28, 28), ((xt - mean) / std):view(-1, 1, 28, 28)

local model = nn.Sequential(
  nn.Conv2d(1, 32, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
  nn.Conv2d(32, 64, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
  nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
print(model)
local history = nn.fit(model, {x, y}, {epochs = epochs, batch = 128, val = {xt, yt},
  optim = nn.optim.Adam(model, {lr = 1e-3})})
local best, best_epoch = 0, 0
for e, acc in ipairs(history.val_acc) do
  print(string.format("epoch %2d  train loss %.4f  test accuracy %.2f%%  %.1f s", e,
    history.train_loss[e], 100 * acc, history.seconds[e]))
  if acc > best then best, best_epoch = acc, e end
end
print(string.format("best test accuracy %.2f%% (epoch %d)", 100 * best, best_epoch))
nn.save("fmnist_cnn.safetensors", model, {test_accuracy = history.val_acc[#history.val_acc]})
