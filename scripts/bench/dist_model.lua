-- scripts/bench/dist_model.lua [mlp_samples_per_s]: on paper, how data-parallel training of
-- the Fashion-MNIST MLP and CNN scales to N = 2..256 ranks at 10 and 100 Gbit/s.
--
-- Step time of one rank with B = 128 samples:  T = B * c + exposed allreduce, where
--   c        compute per sample on one thread: the MLP's is measured here (a short run of
--            scripts/bench/dist.lua's workload, or the figure given), the CNN's scaled from it
--            by the ratio of their flops (measured instead when nn.Conv2d and nn.MaxPool2d exist)
--   ring(b)  = 2 (N-1)/N * b / bandwidth + 2 (N-1) * latency, per bucket of b bytes
--   exposed  = ring(last bucket) + max(0, ring(earlier buckets) - window * B * c): the last
--            bucket is ready when backward ends; the earlier ones reduce behind the rest of
--            backward, a window that is a share of the step (from the order the gradients
--            arrive in: see the models below; DataParallel's buckets of 1 MB)
-- speed-up = N * B * c / T (the same samples per rank per step: weak scaling).
local nn = require "nn"

local B = 128
local LINKS = {
  {name = "10 Gbit/s", bw = 10e9 / 8, lat = 20e-6},  -- Ethernet, MPI over TCP
  {name = "100 Gbit/s", bw = 100e9 / 8, lat = 2e-6}, -- InfiniBand / RoCE
}

-- parameters (with biases) and forward multiply-adds per sample
local function linear(i, o) return i * o + o, i * o end
local function conv(ci, co, k, hw) return ci * co * k * k + co, ci * co * k * k * hw * hw end

local function mlp_sizes()
  local p1, f1 = linear(784, 256)
  local p2, f2 = linear(256, 128)
  local p3, f3 = linear(128, 10)
  -- gradients arrive last layer first; the first layer's (85% of the bytes) ends backward;
  -- the earlier buckets can hide behind the first layer's weight gradient: ~1/4 of the step
  return {name = "MLP 784-256-128-10", params = p1 + p2 + p3, flops = f1 + f2 + f3,
    last = p1, window = 0.25}
end

local function cnn_sizes()
  local p1, f1 = conv(1, 32, 3, 28)
  local p2, f2 = conv(32, 64, 3, 14)
  local p3, f3 = linear(3136, 128)
  local p4, f4 = linear(128, 10)
  -- the Linear layers' gradients (96% of the bytes) arrive first and reduce while backward
  -- runs through both convolutions, most of the step; the convolutions' bucket ends it
  return {name = "CNN conv32-conv64-128-10", params = p1 + p2 + p3 + p4,
    flops = f1 + f2 + f3 + f4, last = p1 + p2, window = 0.6}
end

-- seconds per sample of one training step on one thread
local function measure(model, x, y)
  local opt = nn.optim.Adam(model, {lr = 1e-3})
  local function step()
    opt:zero_grad()
    nn.cross_entropy(model(x), y):backward()
    opt:step()
  end
  for _ = 1, 5 do step() end
  local n, t0 = 30, nn.time()
  for _ = 1, n do step() end
  return (nn.time() - t0) / (n * x:size(1))
end

local function mlp_compute()
  local given = tonumber(arg[1])
  if given then return 1 / given, "given" end
  nn.manual_seed(1)
  local m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 10))
  return measure(m, nn.rand(B, 784), nn.ones(B):to("i64")), "measured"
end

local function cnn_compute(mlp, c_mlp)
  local cnn = cnn_sizes()
  if nn.Conv2d and nn.MaxPool2d then
    local m = nn.Sequential(nn.Conv2d(1, 32, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
      nn.Conv2d(32, 64, 3, {padding = 1}), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
      nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return measure(m, nn.rand(B, 1, 28, 28), nn.ones(B):to("i64")), "measured"
  end
  return c_mlp * cnn.flops / mlp.flops, "scaled by flops"
end

local function step_time(model, c, n, link)
  local function ring(params)
    if n == 1 then return 0 end
    return 2 * (n - 1) / n * params * 4 / link.bw + 2 * (n - 1) * link.lat
  end
  local compute = B * c
  local early = model.params - model.last
  local exposed = ring(model.last) + math.max(0, ring(early) - model.window * compute)
  return compute + exposed, compute
end

local function table_for(model, c)
  print(string.format("\n%s: %d parameters (%.2f MB of f32 gradients), %.1f us per sample",
    model.name, model.params, model.params * 4 / 1e6, c * 1e6))
  print(string.format("%6s  %-28s  %-28s", "N", LINKS[1].name .. ": step ms, speed-up, eff",
    LINKS[2].name .. ": step ms, speed-up, eff"))
  local knee = {}
  local n = 2
  while n <= 256 do
    local cells = {}
    for i, link in ipairs(LINKS) do
      local t, compute = step_time(model, c, n, link)
      local eff = compute / t
      if eff < 0.9 and not knee[i] then knee[i] = n end
      cells[i] = string.format("%7.3f  %7.1fx  %5.1f%%", t * 1e3, n * eff, 100 * eff)
    end
    print(string.format("%6d  %-28s  %-28s", n, cells[1], cells[2]))
    n = n * 2
  end
  for i, link in ipairs(LINKS) do
    print(string.format("  %s: efficiency falls below 90%% at %s", link.name,
      knee[i] and "N = " .. knee[i] or "no N up to 256"))
  end
end

local mlp = mlp_sizes()
local c_mlp, how_mlp = mlp_compute()
local c_cnn, how_cnn = cnn_compute(mlp, c_mlp)
print(string.format("compute per sample: MLP %.2f us (%s), CNN %.2f us (%s); B = %d per rank",
  c_mlp * 1e6, how_mlp, c_cnn * 1e6, how_cnn, B))
table_for(mlp, c_mlp)
table_for(cnn_sizes(), c_cnn)
