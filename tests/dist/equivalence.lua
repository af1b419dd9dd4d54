-- tests/dist/equivalence.lua (2 ranks): DataParallel over a global batch of 128, 64 per rank,
-- for 30 SGD steps, against one process training on the whole batch from the same seed.
-- Rank 2 starts from other weights: DataParallel's broadcast must replace them.
local dist = nn.dist
local rank, size = dist.init()
local steps, batch = 30, 128
local per = batch // size

local function mlp(seed)
  nn.manual_seed(seed)
  return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
    nn.Linear(32, 5))
end

nn.manual_seed(7)
local x = nn.randn(steps * batch, 20)
local y = (nn.rand(steps * batch) * 5):floor():to("i64") + 1

local function train(model, lo, n)
  local opt = nn.optim.SGD(model, {lr = 0.1, momentum = 0.9})
  for s = 0, steps - 1 do
    local first = s * batch + lo
    local xb, yb = x:narrow(1, first, n), y:narrow(1, first, n)
    opt:zero_grad()
    nn.cross_entropy(model(xb), yb):backward()
    opt:step()
  end
end

local model = dist.DataParallel(mlp(rank == 1 and 1 or 99), {bucket_mb = 0.004})
train(model, (rank - 1) * per + 1, per)
local alone = mlp(1)
train(alone, 1, batch)

local function report(ok, name, detail)
  local flag = nn.tensor({ok and 1 or 0})
  dist.allreduce(flag, "sum") -- every rank's verdict
  if rank == 1 then
    print((flag[1] == size and "ok " or "not ok ") .. name .. (detail and ("  " .. detail) or ""))
  end
end

local identical, worst = true, 0
for name, param in model:named_parameters() do
  local p = param:detach()
  local all = dist.allgather(p)
  for r = 2, size do
    if not all[r]:eq(all[1]):all() then identical = false end
  end
  local ref = alone:state_dict()[name]
  local rel = ((p - ref):abs():max() / ref:abs():max()):item()
  worst = math.max(worst, rel)
end
report(identical, "DataParallel: parameters bit-identical on every rank after 30 steps")
report(worst <= 1e-5, "DataParallel: within 1e-5 relative of one process on the whole batch",
  string.format("(max relative difference %.2e)", worst))

-- gradient accumulation: two backwards without zero_grad give the sum of the two means
local acc = dist.DataParallel(mlp(5))
local ref = mlp(5)
for s = 0, 1 do
  local lo = s * batch + (rank - 1) * per + 1
  nn.cross_entropy(acc(x:narrow(1, lo, per)), y:narrow(1, lo, per)):backward()
  nn.cross_entropy(ref(x:narrow(1, s * batch + 1, batch)), y:narrow(1, s * batch + 1, batch)):backward()
end
local worst_acc, ref_params = 0, ref:parameters()
for k, p in ipairs(acc:parameters()) do
  local rg = ref_params[k].grad
  worst_acc = math.max(worst_acc, ((p.grad - rg):abs():max() / rg:abs():max()):item())
end
report(worst_acc <= 1e-5, "DataParallel: accumulated gradients (no zero_grad) are the sum of the means",
  string.format("(max relative difference %.2e)", worst_acc))
