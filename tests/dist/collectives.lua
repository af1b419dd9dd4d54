-- tests/dist/collectives.lua (2 ranks or more): nn.dist's collectives on values every rank
-- can predict, in each dtype, contiguous or not; every rank's verdict is summed, rank 1 prints.
local dist = nn.dist
local rank, size = dist.init()

local function report(ok, name)
  local flag = nn.tensor({ok and 1 or 0}, "i64")
  dist.allreduce(flag, "sum")
  if rank == 1 then print((flag[1] == size and "ok " or "not ok ") .. name) end
end

-- rank r holds base * r; the sum over ranks is base * size(size+1)/2
local tri = size * (size + 1) // 2
for _, dt in ipairs({"f32", "f64", "i64"}) do
  local base = nn.arange(1, 7):reshape(2, 3):to(dt)
  local t = base * rank
  dist.allreduce(t, "sum")
  report(t:eq(base * tri):all(), "allreduce sum " .. dt)
  local m = base * rank
  dist.allreduce(m, "max")
  report(m:eq(base * size):all(), "allreduce max " .. dt)
end
for _, dt in ipairs({"f32", "f64"}) do
  local base = nn.arange(1, 7):reshape(2, 3):to(dt)
  local t = base * rank
  dist.allreduce(t, "mean")
  report(t:eq(base * ((size + 1) / 2)):all(), "allreduce mean " .. dt)
end

-- non-contiguous: a transpose and a column of a bigger tensor; the rest is untouched
local big = (nn.arange(1, 13):reshape(3, 4):to("f32")) * rank
local col = big:select(2, 2)
dist.allreduce(col, "sum")
local want = nn.arange(1, 13):reshape(3, 4):to("f32") * rank
want:select(2, 2):copy_(nn.tensor({2, 6, 10}) * tri)
report(big:eq(want):all(), "allreduce on a non-contiguous column writes only that column")
local tr = (nn.arange(1, 7):reshape(2, 3):to("f64") * rank):t()
dist.allreduce(tr, "max")
report(tr:eq((nn.arange(1, 7):reshape(2, 3):to("f64") * size):t()):all(),
  "allreduce max on a transposed tensor")

-- broadcast from the last rank, allgather, barrier
local b = nn.full({4}, rank)
dist.broadcast(b, size)
report(b:eq(size):all(), "broadcast from rank " .. size)
local bi = (nn.arange(1, 5):to("i64") * rank):reshape(2, 2):t()
dist.broadcast(bi, 1)
report(bi:eq(nn.arange(1, 5):to("i64"):reshape(2, 2):t()):all(), "broadcast i64 non-contiguous")
local g = dist.allgather(nn.tensor({rank, -rank}))
local ok = g:size(1) == size
for r = 1, size do ok = ok and g[r][1] == r and g[r][2] == -r end
report(ok, "allgather stacks every rank's tensor in rank order")
dist.barrier()
report(true, "barrier")

-- disagreements are errors on every rank, naming the ranks, not hangs
local okm, err = pcall(dist.allreduce, nn.zeros(rank + 1))
report(not okm and err:match("rank 1 called allreduce sum of f32 {2}")
  and err:match("rank 2 called allreduce sum of f32 {3}"), "shape mismatch across ranks: an error naming the ranks")
local okd, errd = pcall(dist.allreduce, rank == 1 and nn.zeros(2) or nn.zeros(2):to("f64"))
report(not okd and errd:match("f64"), "dtype mismatch across ranks: an error")
local okc, errc = pcall(function()
  if rank == 1 then dist.allreduce(nn.zeros(2), "max") else dist.allreduce(nn.zeros(2)) end
end)
report(not okc and errc:match("allreduce max") and errc:match("allreduce sum"),
  "op mismatch across ranks: an error")
-- still usable afterwards
local after = nn.ones(3)
dist.allreduce(after)
report(after:eq(size):all(), "collectives work after an error")
