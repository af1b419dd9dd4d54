-- scripts/bench/mingru.lua: MinGRU (input 64, hidden 128, batch 8) forward + backward of the
-- mean of every state, at T = 512 and 4096, as "name seconds" lines (the best of repeated
-- runs); the same workload is in mingru.py for PyTorch. With nn.GRU present, the same step for
-- a GRU of the same width (relua against relua: gru_over_mingru_T*).
local nn = require "nn"
local clock = nn.time

local BUDGET = 2
local function best(f)
  local t, start, runs = math.huge, clock(), 0
  repeat
    local t0 = clock()
    f()
    t = math.min(t, clock() - t0)
    runs = runs + 1
  until runs >= 2 and clock() - start >= BUDGET
  return t
end

nn.manual_seed(1)
local B, IN, H = 8, 64, 128
local m = nn.MinGRU(IN, H)
local gru = nn.GRU and nn.GRU(IN, H)
for _, T in ipairs{512, 4096} do
  local x = nn.randn(B, T, IN)
  local function step(model)
    return function()
      model:zero_grad()
      local h = model(x)
      h:mean():backward()
    end
  end
  local t = best(step(m))
  print("mingru_T" .. T, t)
  if gru then
    local tg = best(step(gru))
    print("gru_T" .. T .. "_relua", tg)
    print("gru_over_mingru_T" .. T, tg / t)
  end
end
