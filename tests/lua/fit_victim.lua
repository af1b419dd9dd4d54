-- tests/lua/fit_victim.lua CKPT EPOCHS [resume]: a small nn.fit run with shuffling and dropout
-- that interrupt_spec.lua kills (SIGINT, SIGKILL) and resumes; prints its final weights' sum
-- and losses. SLOW=1 adds a pause after each batch, so that a signal lands mid-epoch.
local ckpt, epochs, resume = arg[1], tonumber(arg[2]), arg[3]
nn.manual_seed(7)
local x = nn.randn(3000, 20)
local y = x:matmul(nn.randn(20, 4)):argmax(2)
local m = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 4))
local slow = os.getenv("SLOW") and function()
  local t = os.clock()
  while os.clock() - t < 0.002 do end
end
local h = nn.fit(m, {x, y}, {epochs = epochs, batch = 10, checkpoint = ckpt,
  resume = resume and ckpt, progress = false, on_step = slow})
local sum = 0
for _, p in ipairs(m:parameters()) do sum = sum + p:double():abs():sum():item() end
print(string.format("RESULT %s %.17g %s", tostring(h.interrupted), sum,
  table.concat(h.train_loss, ",")))
