-- scripts/bench/rnn.lua: one training step of nn.LSTM, nn.GRU and a tanh nn.RNN (input 64,
-- hidden 256, T = 100, batch 32): zero_grad, forward, MSE of the last output, backward, SGD.
-- Prints "name seconds" (the median of the timed steps) as rnn.py does for PyTorch, and the
-- CPU seconds of the same steps (name_cpu), then the
-- peak RSS (MB) after LSTM steps at T = 100 and at T = 1000 (memory linear in T).
local nn = require "nn"

local B, T, F, H = 32, 100, 64, 256
local STEPS = tonumber(os.getenv("RNN_STEPS")) or 10

local function peak_mb()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then return tonumber(kb) / 1024 end
  end
end

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

-- the median wall time of a step, and the median CPU time of the process (every thread)
local function bench(m, t, steps)
  nn.manual_seed(1)
  local x, target = nn.randn(B, t, F), nn.randn(B, H)
  local opt = nn.optim.SGD(m:parameters(), {lr = 0.01})
  local times, cpu = {}, {}
  for i = 1, steps + 2 do
    local t0, c0 = nn.time(), os.clock()
    opt:zero_grad()
    local y = m(x)
    nn.mse_loss(y:select(2, t), target):backward()
    opt:step()
    if i > 2 then times[#times + 1], cpu[#cpu + 1] = nn.time() - t0, os.clock() - c0 end
  end
  return median(times), median(cpu)
end

-- "_cpu": the CPU seconds of a step on all threads, which a loaded machine inflates less than
-- the wall time (a thread kept off the core costs wall time, not CPU time)
for _, case in ipairs{{"lstm_step", nn.LSTM}, {"gru_step", nn.GRU}, {"rnn_tanh_step", nn.RNN}} do
  local wall, cpu = bench(case[2](F, H), T, STEPS)
  print(case[1], wall)
  print(case[1] .. "_cpu", cpu)
end
collectgarbage()
local lstm = nn.LSTM(F, H)
bench(lstm, 100, 2)
print("lstm_peak_MB_T100", peak_mb())
bench(lstm, 1000, 1)
print("lstm_peak_MB_T1000", peak_mb())
