-- tests/dist/fit.lua (2 ranks): nn.fit(..., {distributed = true}): the same weights and
-- history on every rank, rank 1 alone prints and writes the checkpoint, resume goes on.
local dist = nn.dist
local rank, size = dist.init()
local function report(ok, name)
  local flag = nn.tensor({ok and 1 or 0}, "i64")
  dist.allreduce(flag, "sum")
  if rank == 1 then print((flag[1] == size and "ok " or "not ok ") .. name) end
end

nn.manual_seed(3)
local x = nn.randn(512, 8)
local y = (x:narrow(2, 1, 1):reshape(512):gt(0)):to("i64") + 1
local xv, yv = nn.randn(200, 8), nil
yv = (xv:narrow(2, 1, 1):reshape(200):gt(0)):to("i64") + 1
nn.manual_seed(rank) -- other weights, other random state on each rank: fit must align them
local model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
local ckpt = os.getenv("RELUA_DIST_CKPT") or "/tmp/relua_dist_fit.safetensors"
if rank == 1 then os.remove(ckpt) end
dist.barrier()
local h = nn.fit(model, {x, y}, {epochs = 2, batch = 32, distributed = true, lr = 0.01,
  val = {xv, yv}, checkpoint = ckpt})

local same = true
for _, p in ipairs(model:parameters()) do
  local all = dist.allgather(p:detach())
  same = same and all[1]:eq(all[2]):all()
end
report(same, "fit distributed: the same weights on every rank")
local hist = dist.allgather(nn.tensor({h.train_loss[2], h.val_loss[2], h.val_acc[2]}, "f64"))
report(hist[1]:eq(hist[2]):all(), "fit distributed: the same history on every rank (losses reduced)")
report(h.val_acc[2] > 0.8, "fit distributed: it learns (val_acc " .. h.val_acc[2] .. ")")
local f = io.open(ckpt)
report(f ~= nil, "fit distributed: rank 1 wrote the checkpoint")
if f then f:close() end
local h2 = nn.fit(model, {x, y}, {epochs = 3, batch = 32, distributed = true, lr = 0.01,
  resume = ckpt, progress = false})
report(#h2.train_loss == 3 and h2.train_loss[1] == h.train_loss[1], "fit distributed: resume goes on from the checkpoint")
if rank == 1 then os.remove(ckpt) end
