-- scripts/xor.lua: the smallest problem a linear model cannot solve; a hidden layer of 8 tanh
-- units learns it in a few hundred steps.
local nn = require "nn"
nn.manual_seed(0)
local x = nn.tensor{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
local y = nn.tensor({1, 2, 2, 1}, "i64") -- class 2 = "inputs differ"
local model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
local opt = nn.optim.Adam(model, {lr = 0.05})
for step = 1, 300 do
  opt:zero_grad()
  local loss = nn.cross_entropy(model(x), y)
  loss:backward()
  opt:step()
  if step % 50 == 0 then print(string.format("step %3d  loss %.4f", step, loss:item())) end
end
local pred = nn.no_grad(function() return model(x):argmax(2) end)
print("predictions", table.concat(pred:totable(), " "), "(want 1 2 2 1)")
