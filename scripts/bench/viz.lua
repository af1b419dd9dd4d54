-- scripts/bench/viz.lua [rounds=6]: the cost of the live view. The Fashion-MNIST MLP of
-- mlp.lua (784-256-128-10 ReLU, Adam 1e-3, batch 128) trains one epoch at a time by nn.fit,
-- with the view on (viz = true: loss per step, sparsity of both ReLU layers, the PNG saved
-- at the end when headless) and off, in turns (off/on, then on/off: the machine's drift
-- hits both alike). Two figures: the whole nn.fit call (opening the window or the view, the
-- final save: what a one-epoch run pays), and the epoch itself as nn.fit times it (what
-- every epoch of a longer run pays). Prints the medians of the seconds and of the rounds'
-- on/off ratios (and writes them to $VIZ_BENCH_OUT when set: run.py's terminal round, where
-- the view is drawn in a tmux pane, with RELUA_VIZ=terminal).
local nn = require "nn"
local rounds = math.tointeger(tonumber(arg[1])) or 6
nn.manual_seed(1)
local x, y = nn.data.fashion_mnist("train")
local model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
  nn.Linear(128, 10))
local opt = nn.optim.Adam(model, {lr = 1e-3})
local path = os.tmpname()

-- seconds of the whole call, and of the epoch
local function epoch(mode)
  local t0 = nn.time()
  local h = nn.fit(model, {x, y}, {epochs = 1, batch = 128, progress = false, optim = opt,
    viz = mode == "on" and {path = path, title = "bench"} or false})
  return nn.time() - t0, h.seconds[1]
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  return n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
end

epoch("off") -- warm up: caches, allocator pools
local on, off, ratios, ratios_epoch = {}, {}, {}, {}
for r = 1, rounds do
  local order = r % 2 == 1 and {"off", "on"} or {"on", "off"}
  local call, ep = {}, {}
  for _, mode in ipairs(order) do call[mode], ep[mode] = epoch(mode) end
  on[r], off[r] = call.on, call.off
  ratios[r], ratios_epoch[r] = call.on / call.off, ep.on / ep.off
end
os.remove(path)
local report = string.format("call_seconds_on %.6f\ncall_seconds_off %.6f\nratio %.6f\n"
  .. "ratio_epoch %.6f\n", median(on), median(off), median(ratios), median(ratios_epoch))
io.write(report)
-- in a terminal (run.py's tmux round), the figures go to a file as well
local out = os.getenv("VIZ_BENCH_OUT")
if out then
  local f = assert(io.open(out, "w"))
  f:write(report)
  f:close()
end
