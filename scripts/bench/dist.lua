-- scripts/bench/dist.lua: data-parallel training of the Fashion-MNIST MLP (784-256-128-10,
-- Adam, 128 samples per rank per step), 2 ranks against 1, each rank on one thread.
--
--   relua scripts/bench/dist.lua [rounds]   the driver: runs 1 rank (plain relua) and 2 ranks
--                                           (mpirun) interleaved, prints medians
--   mpirun -np N relua scripts/bench/dist.lua worker   one measurement
--
-- Figures: samples_per_s_1, samples_per_s_2 (all ranks together), speedup (median of the
-- rounds' ratios), wait_share (the share of a 2-rank step spent blocked waiting for gradient
-- buckets), allreduce_ms (one blocking allreduce of the whole gradient, alone) and overlap
-- (1 - wait per step / allreduce_ms: the part of the allreduce hidden behind backward).
-- scripts/bench/dist.py measures PyTorch's DistributedDataParallel (gloo) the same way.
local nn = require "nn"
local dist = nn.dist
local WARMUP, STEPS, BATCH = 20, 300, 128

local function worker()
  local rank, size = dist.init()
  nn.manual_seed(1)
  local x, y = nn.data.fashion_mnist("train")
  local model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 10))
  local _, dp = dist.DataParallel(model)
  local opt = nn.optim.Adam(model, {lr = 1e-3})
  local per_epoch = x:size(1) // (BATCH * size)
  local function step(k)
    local first = ((k % per_epoch) * size + rank - 1) * BATCH + 1
    opt:zero_grad()
    nn.cross_entropy(model(x:narrow(1, first, BATCH)), y:narrow(1, first, BATCH)):backward()
    opt:step()
  end
  for k = 1, WARMUP do step(k) end
  dist.barrier()
  local w0, t0 = dist.stats().wait, nn.time()
  for k = WARMUP + 1, WARMUP + STEPS do step(k) end
  local t = nn.time() - t0
  local wait = dist.stats().wait - w0
  dist.barrier()
  -- the whole gradient in one blocking allreduce, alone
  local flat = nn.zeros(model:num_params())
  for _ = 1, 10 do dist.allreduce(flat) end
  local a0 = nn.time()
  for _ = 1, 50 do dist.allreduce(flat) end
  local ar = (nn.time() - a0) / 50
  local f = nn.tensor({t, wait, ar}, "f64")
  dist.allreduce(f, "max")
  if rank == 1 then
    print("samples_per_s", size * BATCH * STEPS / f[1])
    print("wait_share", f[2] / f[1])
    print("allreduce_ms", 1000 * f[3])
    print("wait_ms_per_step", 1000 * f[2] / STEPS)
    print("buckets", dp.buckets and #dp.buckets or 0)
  end
end

local function run(cmd)
  local p = io.popen(cmd)
  local out = {}
  for line in p:lines() do
    local k, v = line:match("^(%S+)%s+(%S+)$")
    if k then out[k] = tonumber(v) end
  end
  p:close()
  return out
end

local function median(list)
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

local function driver(rounds)
  local env = "RELUA_THREADS=1 OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 "
    .. "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
  local relua = arg[-1] or "relua"
  local script = arg[0]
  local one, two, speedup, share, ar, waitms = {}, {}, {}, {}, {}, {}
  for r = 1, rounds do
    local a = run(env .. relua .. " " .. script .. " worker")
    local b = run(env .. "mpirun --oversubscribe -np 2 " .. relua .. " " .. script .. " worker")
    if not (a.samples_per_s and b.samples_per_s) then error("dist bench: a run failed") end
    one[r], two[r] = a.samples_per_s, b.samples_per_s
    speedup[r], share[r] = b.samples_per_s / a.samples_per_s, b.wait_share
    ar[r], waitms[r] = b.allreduce_ms, b.wait_ms_per_step
    io.stderr:write(string.format("round %d: 1 rank %.0f, 2 ranks %.0f samples/s (x%.2f), "
      .. "wait %.1f%%\n", r, one[r], two[r], speedup[r], 100 * share[r]))
  end
  print("samples_per_s_1", median(one))
  print("samples_per_s_2", median(two))
  print("speedup", median(speedup))
  print("wait_share", median(share))
  print("allreduce_ms", median(ar))
  print("overlap", math.max(0, 1 - median(waitms) / median(ar)))
end

if arg[1] == "worker" then worker() else driver(tonumber(arg[1]) or 1) end
