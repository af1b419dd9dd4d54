-- scripts/bench/dist_model.lua [mlp_samples_per_s [overlap]]: on paper, how data-parallel
-- training of the Fashion-MNIST MLP and CNN scales to N = 2..256 ranks at 10 and 100 Gbit/s.
-- scripts/bench/dist.lua runs it with its measured figures: the single-rank samples per
-- second (1 thread) and the overlap, the share of the allreduce that 2 ranks hid behind
-- backward; without them it measures the compute itself and takes the overlap as 0.
--
-- Step time of one rank with B = 128 samples:  T = B * c + exposed allreduce, where
--   c        compute per sample on one thread: the MLP's from the measured single-rank
--            figure, the CNN's measured here (a short run of scripts/bench/cnn.lua's model)
--   ring(b)  = 2 (N-1)/N * b / bandwidth + 2 (N-1) * latency, for b bytes of f32 gradients
--   exposed  = (1 - overlap) * ring(gradient): the share hidden stays the measured one
-- speed-up = N * B * c / T (the same samples per rank per step: weak scaling). A second
-- line per model bounds it from above: the early buckets (every gradient but the last
-- bucket's) hidden behind the rest of backward, as far as its share of the step allows.
local nn = require "nn"

local B = 128
local LINKS = {
  {name = "10 Gbit/s", bw = 10e9 / 8, lat = 20e-6},  -- Ethernet, MPI over TCP
  {name = "100 Gbit/s", bw = 100e9 / 8, lat = 2e-6}, -- InfiniBand / RoCE
}

-- parameters (with biases) and forward multiply-adds per sample
local function linear(i, o) return i * o + o, i * o end
local function conv(ci, co, k, hw) return ci * co * k * k + co, ci * co * k * k * hw * hw end

-- parameters, forward multiply-adds per sample, and nlast: how many of the model's parameter
-- tensors (the first layers') make DataParallel's last bucket of 1 MB, the one that is ready
-- only when backward ends
local function mlp_sizes()
  local p1, f1 = linear(784, 256)
  local p2, f2 = linear(256, 128)
  local p3, f3 = linear(128, 10)
  return {name = "MLP 784-256-128-10", params = p1 + p2 + p3, flops = f1 + f2 + f3,
    last = p1, nlast = 2}
end

local function cnn_sizes()
  local p1, f1 = conv(1, 32, 3, 28)
  local p2, f2 = conv(32, 64, 3, 14)
  local p3, f3 = linear(3136, 128)
  local p4, f4 = linear(128, 10)
  return {name = "CNN conv32-conv64-128-10", params = p1 + p2 + p3 + p4,
    flops = f1 + f2 + f3 + f4, last = p1 + p2, nlast = 4}
end

-- One training step on one thread: seconds per sample, and the window, the share of the
-- step between the arrival of the last early gradient (any but the last bucket's: gradient
-- hooks stamp the times) and the end of backward, where early buckets can reduce.
local function measure(model, x, y, nlast)
  local opt = nn.optim.Adam(model, {lr = 1e-3})
  local stamp = {}
  for i, p in ipairs(model:parameters()) do
    p:register_hook(function() stamp[i] = nn.time() end)
  end
  local window = 0
  local function step()
    opt:zero_grad()
    local loss = nn.cross_entropy(model(x), y)
    loss:backward()
    local ready = 0
    for i, t in pairs(stamp) do if i > nlast then ready = math.max(ready, t) end end
    window = window + nn.time() - ready
    opt:step()
  end
  for _ = 1, 5 do step() end
  window = 0
  local n, t0 = 30, nn.time()
  for _ = 1, n do step() end
  local t = nn.time() - t0
  return t / (n * x:size(1)), window / t
end

local OVERLAP = tonumber(arg[2]) or 0

local function mlp_compute(mlp)
  nn.manual_seed(1)
  local m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 10))
  local c
  c, mlp.window = measure(m, nn.rand(B, 784), nn.ones(B):to("i64"), mlp.nlast)
  local given = tonumber(arg[1])
  if given then return 1 / given, "measured by scripts/bench/dist.lua" end
  return c, "measured now"
end

local function cnn_compute(cnn)
  local m = nn.Sequential(nn.Conv2d(1, 32, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
  local c
  c, cnn.window = measure(m, nn.rand(B, 1, 28, 28), nn.ones(B):to("i64"), cnn.nlast)
  return c, "measured now"
end

local function ring(params, n, link)
  if n == 1 then return 0 end
  return 2 * (n - 1) / n * params * 4 / link.bw + 2 * (n - 1) * link.lat
end

-- the step time at the measured overlap, and the bound with the early buckets hidden
local function step_time(model, c, n, link)
  local compute = B * c
  local measured = compute + (1 - OVERLAP) * ring(model.params, n, link)
  local early = model.params - model.last
  local bound = compute + ring(model.last, n, link)
    + math.max(0, ring(early, n, link) - model.window * compute)
  return measured, bound, compute
end

local function knee_of(model, c, link, which)
  local n = 2
  while n <= 256 do
    local t = select(which, step_time(model, c, n, link))
    if B * c / t < 0.9 then return "N = " .. n end
    n = n * 2
  end
  return "no N up to 256"
end

local function table_for(model, c)
  print(string.format("\n%s: %d parameters (%.2f MB of f32 gradients), %.1f us per sample",
    model.name, model.params, model.params * 4 / 1e6, c * 1e6))
  print(string.format("%6s  %-28s  %-28s", "N", LINKS[1].name .. ": step ms, speed-up, eff",
    LINKS[2].name .. ": step ms, speed-up, eff"))
  local n = 2
  while n <= 256 do
    local cells = {}
    for i, link in ipairs(LINKS) do
      local t, _, compute = step_time(model, c, n, link)
      local eff = compute / t
      cells[i] = string.format("%7.3f  %7.1fx  %5.1f%%", t * 1e3, n * eff, 100 * eff)
    end
    print(string.format("%6d  %-28s  %-28s", n, cells[1], cells[2]))
    n = n * 2
  end
  for _, link in ipairs(LINKS) do
    print(string.format("  %s: efficiency falls below 90%% at %s (overlap %.2f); at %s with "
      .. "the early buckets hidden", link.name, knee_of(model, c, link, 1), OVERLAP,
      knee_of(model, c, link, 2)))
  end
end

local mlp, cnn = mlp_sizes(), cnn_sizes()
local c_mlp, how_mlp = mlp_compute(mlp)
local c_cnn, how_cnn = cnn_compute(cnn)
print(string.format("compute per sample: MLP %.2f us (%s), CNN %.2f us (%s); B = %d per rank; "
  .. "overlap %.2f (%s); early-bucket windows: MLP %.0f%%, CNN %.0f%% of the step",
  c_mlp * 1e6, how_mlp, c_cnn * 1e6, how_cnn, B, OVERLAP,
  arg[2] and "measured by scripts/bench/dist.lua" or "none given: 0",
  100 * mlp.window, 100 * cnn.window))
table_for(mlp, c_mlp)
table_for(cnn, c_cnn)
