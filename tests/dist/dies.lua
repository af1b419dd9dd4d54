-- tests/dist/dies.lua MODE (2 ranks): rank 2 fails in the middle of DataParallel training;
-- tests/dist/run checks that rank 1 ends, in bounded time, with a message naming the ranks
-- and the call. MODE kill: rank 2 is killed (SIGKILL) while rank 1 waits for its gradients,
-- and mpirun ends rank 1 (its watchdog's timeout, 120 s, is not what ends it); stuck: rank 2
-- stops calling collectives (a 60 s sleep) and rank 1's watchdog ends the job after its 2 s
-- timeout. Rank 2 fails half a second after both passed a barrier, so that rank 1, one
-- allreduce away, waits in it even on a loaded machine.
local mode = arg[1] or "kill"
local dist = nn.dist
local rank = dist.init({timeout = mode == "kill" and 120 or 2})
nn.manual_seed(1)
local model = dist.DataParallel(nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2)))
local opt = nn.optim.SGD(model, {lr = 0.01})
for step = 1, 1e6 do
  if step == 20 then dist.barrier() end
  if rank == 2 and step == 20 then
    os.execute("sleep 0.5")
    if mode == "kill" then
      local pid = math.tointeger(io.open("/proc/self/stat"):read("n"))
      os.execute("kill -9 " .. pid)
    else
      os.execute("sleep 60")
    end
  end
  opt:zero_grad()
  nn.cross_entropy(model(nn.randn(16, 10)), nn.ones(16):to("i64")):backward()
  opt:step()
end
