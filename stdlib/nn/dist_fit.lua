-- stdlib/nn/dist_fit.lua: what nn.fit(model, data, {distributed = true}) does differently.
--
-- setup wraps the model in nn.dist.DataParallel and gives every rank rank 1's random state,
-- so that every rank draws the same shuffle of each epoch; each rank then trains on its
-- shard of the shuffled batches (batch k goes to rank (k - 1) % size + 1; the batches left
-- over, fewer than size, are dropped so that every rank makes as many steps). Only rank 1
-- prints, writes checkpoints and opens the live view: the other ranks get a copy of the
-- options without them. The epoch's train loss and the validation loss and accuracy are
-- summed over the ranks, each rank evaluating its slice of the validation set.
local nn = require "nn"
local data = require "nn.data"
local dist = require "nn.dist"

local M = {}

local function loader(self, x, y, run)
  local size, rank = self.size, self.rank
  local batches = data.loader({x, y}, {batch = run.batch, shuffle = run.shuffle})
  local k, last = 0, self.steps(x:size(1), run.batch) * size
  return function()
    while true do
      local xb, yb = batches()
      k = k + 1
      if xb == nil or k > last then return nil end
      if (k - 1) % size + 1 == rank then return xb, yb end
    end
  end
end

-- the mean over every rank's samples of a per-rank sum
local function train_loss(self, total, count)
  local t = nn.tensor({total, count}, "f64")
  dist.allreduce(t, "sum")
  return t[1] / math.max(t[2], 1)
end

-- evaluate(model, run, x, y) on this rank's slice of {x, y}, then summed over the ranks
local function evaluate(self, fn, model, run, x, y)
  local n = x:size(1)
  local lo = (self.rank - 1) * n // self.size + 1
  local hi = self.rank * n // self.size
  local loss, acc, m = nil, nil, hi - lo + 1
  if m > 0 then loss, acc = fn(model, run, x:narrow(1, lo, m), y:narrow(1, lo, m)) end
  local t = nn.tensor({(loss or 0) * m, (acc or 0) * m, m}, "f64")
  dist.allreduce(t, "sum")
  local has_loss, has_acc = not run.rule, y:dtype() == "i64"
  return has_loss and t[1] / t[3] or nil, has_acc and t[2] / t[3] or nil
end

-- nil unless opts.distributed; else {rank, size, opts (this rank's), loader, steps, ...}
function M.setup(model, opts)
  if not opts.distributed then return nil end
  if opts.rule then
    error("nn.fit: distributed = true trains by backprop (optim); learning rules are not "
      .. "averaged over ranks", 0)
  end
  local rank, size = dist.init()
  dist.DataParallel(model)
  local state = nn.get_rng_state()
  dist.broadcast(state, 1)
  nn.set_rng_state(state)
  local own = {}
  for k, v in pairs(opts) do own[k] = v end
  if rank ~= 1 then own.progress, own.viz, own.checkpoint = false, nil, nil end
  if opts.checkpoint then -- the epoch's checkpoint is on disk before any rank goes on
    local user = opts.on_epoch
    own.on_epoch = function(info)
      dist.barrier()
      if user then return user(info) end
    end
  end
  local self = {rank = rank, size = size, opts = own}
  function self.steps(n, batch)
    local nb = data.num_batches(n, batch, false)
    if nb < size then
      error(string.format("nn.fit: %d batch(es) of %d for %d ranks: each rank needs one at "
        .. "least (a smaller batch?)", nb, batch, size), 0)
    end
    return nb // size
  end
  function self.loader(x, y, run) return loader(self, x, y, run) end
  function self.train_loss(total, count) return train_loss(self, total, count) end
  function self.evaluate(fn, model_, run, x, y) return evaluate(self, fn, model_, run, x, y) end
  return self
end

return M
