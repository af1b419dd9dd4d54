-- scripts/bench/dist.lua: data-parallel training of the Fashion-MNIST MLP (784-256-128-10,
-- Adam, 128 samples per rank per step), 2 ranks against 1, each rank on one thread.
--
--   relua scripts/bench/dist.lua [rounds]   the driver: runs 1 rank (plain relua) and 2 ranks
--                                           (mpirun) interleaved, prints medians, then the
--                                           scaling model (dist_model.lua) from these figures
--   mpirun -np N relua scripts/bench/dist.lua worker [bucket_mb]   one measurement
--
-- Figures (stdout, "name value"): for scripts/bench/run.py, lower is better and PyTorch's
-- scripts/bench/dist.py prints the same: seconds_per_1k_samples_1rank, ..._2ranks (all ranks
-- together) and time_ratio_2_over_1 (their ratio: 1 / speed-up). Then relua's own: speedup
-- (median of the rounds' ratios), wait_share (the share of a 2-rank step spent blocked in
-- the gradients' allreduce, waits for the other rank included), allreduce_ms (one blocking
-- allreduce of the whole gradient, alone), overlap (1 - wait per step / allreduce_ms: the
-- part of the allreduce hidden behind backward, 0 when none is), the same two with buckets
-- of 0.25 MB (the first layers' gradients reduced while the first layer's backward runs),
-- and cpu_share: the least CPU time a rank got over its wall time in the 2-rank runs (below
-- ~0.95 other work on the machine took cores from the ranks: the speed-up then says little).
-- Without Open MPI (no mpirun, no dist.so) it prints that it skipped, to stderr, and exits 0.
local nn = require "nn"
local dist = nn.dist
local WARMUP, STEPS, BATCH = 30, 500, 128
local SMALL_MB = 0.25

local function worker(bucket_mb)
  local rank, size = dist.init()
  nn.manual_seed(1)
  local x, y = nn.data.fashion_mnist("train")
  local model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 10))
  local _, dp = dist.DataParallel(model, {bucket_mb = bucket_mb})
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
  local w0, t0, c0 = dist.stats().wait, nn.time(), os.clock()
  for k = WARMUP + 1, WARMUP + STEPS do step(k) end
  local t, cpu = nn.time() - t0, os.clock() - c0
  local wait = dist.stats().wait - w0
  dist.barrier()
  -- the whole gradient in one blocking allreduce, alone
  local flat = nn.zeros(model:num_params())
  for _ = 1, 10 do dist.allreduce(flat) end
  local a0 = nn.time()
  for _ = 1, 50 do dist.allreduce(flat) end
  local ar = (nn.time() - a0) / 50
  local f = nn.tensor({t, wait, ar, -cpu / t}, "f64")
  dist.allreduce(f, "max")
  if rank == 1 then
    print("samples_per_s", size * BATCH * STEPS / f[1])
    print("wait_share", f[2] / f[1])
    print("allreduce_ms", 1000 * f[3])
    print("wait_ms_per_step", 1000 * f[2] / STEPS)
    print("cpu_share", -f[4])
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

local function overlap(wait_ms, ar_ms)
  return math.max(0, 1 - wait_ms / ar_ms)
end

local ENV = "RELUA_THREADS=1 OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 "
  .. "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "

local function loadavg()
  local f = io.open("/proc/loadavg")
  local l = f and f:read("n")
  if f then f:close() end
  return l or 0
end

local function usable()
  if not os.execute("command -v mpirun >/dev/null 2>&1") then return false, "no mpirun" end
  if not pcall(require, "dist") then return false, "no dist.so (built with Open MPI)" end
  return true
end

local function driver(rounds)
  local ok, why = usable()
  if not ok then
    io.stderr:write("dist bench: skipped: " .. why .. " (make deps installs Open MPI)\n")
    return
  end
  local relua, script = arg[-1] or "relua", arg[0]
  -- a stuck rank ends the run (the collectives' own timeout, then timeout's); the ranks are
  -- not bound to cores, as the 1-rank run is not: bound, a rank cannot leave a core that
  -- other work took (on a loaded machine 17 ms a step bound against 6 free)
  local mpi = ENV .. "RELUA_DIST_TIMEOUT=60 timeout 300 mpirun --oversubscribe --bind-to none "
    .. "-np 2 " .. relua .. " " .. script .. " worker"
  local r = {one = {}, two = {}, speedup = {}, share = {}, ar = {}, waitms = {}, cpu = {},
    small_share = {}, small_wait = {}, small_ar = {}}
  local load0 = loadavg()
  for k = 1, rounds do
    local a = run(ENV .. "timeout 300 " .. relua .. " " .. script .. " worker")
    local b = run(mpi)
    local s = run(mpi .. " " .. SMALL_MB)
    if not (a.samples_per_s and b.samples_per_s and s.samples_per_s) then
      error("dist bench: a run failed")
    end
    r.one[k], r.two[k] = a.samples_per_s, b.samples_per_s
    r.speedup[k], r.share[k] = b.samples_per_s / a.samples_per_s, b.wait_share
    r.ar[k], r.waitms[k], r.cpu[k] = b.allreduce_ms, b.wait_ms_per_step, b.cpu_share
    r.small_share[k], r.small_wait[k], r.small_ar[k] = s.wait_share, s.wait_ms_per_step,
      s.allreduce_ms
    io.stderr:write(string.format("round %d: 1 rank %.0f, 2 ranks %.0f samples/s (x%.2f), "
      .. "wait %.1f%%, cpu share %.2f; %g MB buckets: %.0f samples/s, wait %.1f%%\n", k, r.one[k],
      r.two[k], r.speedup[k], 100 * r.share[k], r.cpu[k], SMALL_MB, s.samples_per_s,
      100 * s.wait_share))
  end
  local one, two = median(r.one), median(r.two)
  print("seconds_per_1k_samples_1rank", 1000 / one)
  print("seconds_per_1k_samples_2ranks", 1000 / two)
  print("time_ratio_2_over_1", 1 / median(r.speedup))
  print("speedup", median(r.speedup))
  print("samples_per_s_1", one)
  print("samples_per_s_2", two)
  print("wait_share", median(r.share))
  print("allreduce_ms", median(r.ar))
  local ov = overlap(median(r.waitms), median(r.ar))
  print("overlap", ov)
  print("wait_share_small_buckets", median(r.small_share))
  print("overlap_small_buckets", overlap(median(r.small_wait), median(r.small_ar)))
  print("cpu_share", median(r.cpu))
  io.stderr:write(string.format("dist bench: load average %.2f before, %.2f after\n", load0,
    loadavg()))
  -- the model, from the single-rank compute and the overlap measured here
  local model = script:gsub("dist%.lua$", "dist_model.lua")
  local p = io.popen(string.format("%s%s %s %.1f %.3f", ENV, relua, model, one, ov))
  for line in p:lines() do io.stderr:write(line, "\n") end
  p:close()
end

if arg[1] == "worker" then worker(tonumber(arg[2])) else driver(tonumber(arg[1]) or 3) end
