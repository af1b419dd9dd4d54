-- scripts/spirals.lua: three interleaved spiral arms, a 2-64-64-3 ReLU MLP trained by nn.fit.
local nn = require "nn"
nn.manual_seed(0)
local x, y = nn.data.spirals(200, 3)
local model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
  nn.Linear(64, 3))
local history = nn.fit(model, {x, y}, {epochs = 100, batch = 32, val = {x, y},
  optim = nn.optim.Adam(model, {lr = 3e-3}), progress = false,
  on_epoch = function(info)
    if info.epoch % 10 == 0 then
      print(string.format("epoch %3d  loss %.4f  accuracy %.1f%%", info.epoch, info.train_loss,
        100 * info.val_acc))
    end
  end})
print(string.format("final training accuracy %.1f%%", 100 * history.val_acc[#history.val_acc]))
