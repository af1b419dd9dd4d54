-- stdlib/nn/dist.lua: nn.dist, data-parallel training over MPI (`mpirun -np N relua x.lua`).
--
-- The collectives are the C module "dist" (build/dist.so, Open MPI), required on first use
-- so that relua starts without MPI and runs without it: when dist.so is missing or the
-- script was not started by mpirun, nn.dist is a world of one (rank 1 of 1, every
-- collective a no-op that still checks its arguments). Ranks are 1-based, as every index.
--
-- DataParallel averages the gradients of a model over the ranks during backward, as
-- PyTorch's DistributedDataParallel: the parameters are packed in buckets of bucket_mb; a
-- gradient hook on each parameter counts its gradients, and once every parameter of a
-- bucket has all of its gradients (as many as in the first backward, which also fixes the
-- order of the buckets to the order gradients arrive in) the bucket's non-blocking
-- allreduce starts while backward goes on with the layers below. A callback queued at the
-- end of backward (nn.queue_callback) starts what is left, waits, and writes the means into
-- .grad. Buckets start in the same order on every rank, as MPI requires.
local nn = require "nn"
local options = require "nn.options"

local M = {}

local C          -- the C module, or false when there is none
local function c()
  if C == nil then
    local ok, mod = pcall(require, "dist")
    C = ok and type(mod) == "table" and mod or false
  end
  return C
end

local function fail(fname, fmt, ...)
  error(fname .. ": " .. string.format(fmt, ...), 0)
end

local function check_tensor(fname, t)
  if not nn.is_tensor(t) then fail(fname, "expected a tensor, got %s", type(t)) end
  return t
end

-- ---- the world ----

function M.init(opts)
  opts = options.check("nn.dist.init", opts, {"timeout"})
  if opts.timeout ~= nil and (type(opts.timeout) ~= "number" or opts.timeout <= 0) then
    fail("nn.dist.init", "timeout must be a number of seconds > 0, got %s", tostring(opts.timeout))
  end
  if not c() then return 1, 1 end
  return C.init(opts.timeout)
end

function M.rank() return c() and C.rank() or 1 end
function M.size() return c() and C.size() or 1 end
-- whether the script runs under MPI with more than one rank
function M.active() return M.size() > 1 end

local OPS = {sum = true, mean = true, max = true}

function M.allreduce(t, op)
  check_tensor("nn.dist.allreduce", t)
  op = op or "sum"
  if not OPS[op] then
    fail("nn.dist.allreduce", "op must be \"sum\", \"mean\" or \"max\", got %s", tostring(op))
  end
  if op == "mean" and not (t:dtype() == "f32" or t:dtype() == "f64") then
    fail("nn.dist.allreduce", "mean needs an f32 or f64 tensor, got %s (sum it instead)", t:dtype())
  end
  if not c() then return t end
  return C.allreduce(t, op)
end

function M.broadcast(t, root)
  check_tensor("nn.dist.broadcast", t)
  root = root or 1
  if math.type(root) ~= "integer" or root < 1 or root > M.size() then
    fail("nn.dist.broadcast", "root must be a rank from 1 to %d, got %s", M.size(), tostring(root))
  end
  if not c() then return t end
  return C.broadcast(t, root)
end

function M.barrier()
  if c() then C.barrier() end
end

-- every rank's t, stacked: size x t's shape
function M.allgather(t)
  check_tensor("nn.dist.allgather", t)
  local shape = t:shape()
  table.insert(shape, 1, M.size())
  local out = nn.empty(shape, t:dtype())
  if not c() then return out:copy_(t:reshape(table.unpack(shape))) end
  C.allgather(t, out)
  return out
end

-- seconds blocked in collectives so far (bucket waits included) and how many were made
function M.stats()
  if not c() then return {wait = 0, calls = 0} end
  local w, n = C.stats()
  return {wait = w, calls = n}
end

-- ---- DataParallel ----

local DP = {}
DP.__index = DP

local NONE = {}
local attached = setmetatable({}, {__mode = "k"}) -- model -> its DataParallel

-- buckets of consecutive params of order (indices into dp.params), each at most cap bytes
-- (a bigger param alone) and of one dtype
local function make_buckets(dp, order)
  local buckets, cur, bytes = {}, nil, 0
  for _, i in ipairs(order) do
    local p = dp.params[i]
    local size = p:numel() * (p:dtype() == "f64" and 8 or 4)
    if not cur or bytes + size > dp.cap or cur.dtype ~= p:dtype() then
      cur = {params = {}, dtype = p:dtype(), n = 0}
      buckets[#buckets + 1] = cur
      bytes = 0
    end
    cur.params[#cur.params + 1] = i
    cur.n = cur.n + p:numel()
    bytes = bytes + size
  end
  for b, bucket in ipairs(buckets) do
    bucket.flat = nn.zeros(math.max(bucket.n, 1), bucket.dtype)
    bucket.slices, bucket.views, bucket.left = {}, {}, 0
    local off = 1
    for _, i in ipairs(bucket.params) do
      local p = dp.params[i]
      local n = p:numel()
      bucket.slices[i] = bucket.flat:narrow(1, off, n)
      bucket.views[i] = bucket.slices[i]:view(table.unpack(p:shape())) -- the mean, as .grad
      off = off + n
      dp.bucket_of[i] = b
    end
  end
  return buckets
end

-- the tensor bucket b is summed in, and the factor to apply after the sum: the .grad of its
-- one param when that is contiguous (summed in place, no copy: autograd gives a leaf a
-- .grad of its own), else its flat buffer with every .grad packed in times 1/size (zeros
-- where none)
local function gather(dp, bucket)
  local only = #bucket.params == 1 and bucket.params[1]
  local g = only and dp.params[only].grad
  if g and g:dtype() == bucket.dtype and g:is_contiguous() then
    dp.had_grad[only], bucket.direct = true, g
    return g, dp.scale
  end
  for _, i in ipairs(bucket.params) do
    local g, s = dp.params[i].grad, bucket.slices[i]
    if g then C.pack(s, g, dp.scale) else s:zero_() end
    dp.had_grad[i] = g ~= nil
  end
  return bucket.flat, 1
end

-- starts the non-blocking sum of bucket b (any but the last)
local function launch(dp, b)
  local bucket = dp.buckets[b]
  local t, k = gather(dp, bucket)
  bucket.handle, bucket.k = C.iallreduce(t), k
  dp.launched = b
end

-- starts, in order, the buckets whose params have all their gradients; the last is summed
-- at the end of backward, when nothing is left to overlap it with
local function launch_ready(dp)
  local b = dp.launched + 1
  while b < #dp.buckets and dp.buckets[b].left == 0 do
    launch(dp, b)
    dp.early = dp.early + 1 -- started during backward
    b = b + 1
  end
end

-- the param whose hook ran last has its gradient in .grad by now: it counts as done
local function settle(dp)
  local i = dp.last
  if i and dp.expected and dp.count[i] == dp.expected[i] then
    local bucket = dp.buckets[dp.bucket_of[i]]
    bucket.left = bucket.left - 1
  end
  dp.last = nil
end

-- the first backward: gradients arrive in this order, this often; rank 1's choice is kept
local function learn(dp)
  local order = {}
  for _, i in ipairs(dp.arrival) do order[#order + 1] = i end
  for i = 1, #dp.params do
    if not dp.seen[i] then order[#order + 1] = i end -- no gradient reached it: last
  end
  local info = nn.tensor(order, "i64")
  local counts = {}
  for i = 1, #dp.params do counts[i] = dp.count[i] end
  local cinfo = nn.tensor(counts, "i64")
  M.broadcast(info, 1)
  M.broadcast(cinfo, 1)
  dp.expected = {}
  for i = 1, #dp.params do dp.expected[i] = math.tointeger(cinfo[i]) end
  local new_order = {}
  for k = 1, #order do new_order[k] = math.tointeger(info[k]) end
  dp.bucket_of = {}
  dp.buckets = make_buckets(dp, new_order)
end

local function reset_pass(dp)
  dp.in_pass, dp.last, dp.launched = false, nil, 0
  for i = 1, #dp.params do dp.count[i] = 0 end
  for _, bucket in ipairs(dp.buckets) do
    bucket.left = 0
    for _, i in ipairs(bucket.params) do
      if dp.expected[i] > 0 then bucket.left = bucket.left + 1 end
    end
  end
end

-- after backward: the rest of the buckets, the blocking sum of the last (MPI's fastest),
-- the waits, the means into .grad
local function finish(dp)
  settle(dp)
  -- every bucket, even when this backward failed (ok false): the other ranks expect them
  local nb = #dp.buckets
  for b = dp.launched + 1, nb - 1 do launch(dp, b) end
  C.sum_now(gather(dp, dp.buckets[nb]))
  for b, bucket in ipairs(dp.buckets) do
    if b < nb then C.wait(bucket.handle, bucket.k) end
    -- .grad becomes the bucket's memory (no copy): the next launch reads it before the
    -- next backward's gradients are copied over it (a direct bucket's .grad is its own)
    for _, i in ipairs(bucket.direct and NONE or bucket.params) do
      local p = dp.params[i]
      if dp.had_grad[i] or bucket.slices[i]:abs():max():item() ~= 0 then
        p.grad = bucket.views[i]
      end
    end
    bucket.direct = nil
  end
  if dp.first then
    dp.first = false
    learn(dp)
  end
  dp.passes = dp.passes + 1
  reset_pass(dp)
end

local function on_grad(dp, i)
  if not dp.in_pass then
    dp.in_pass = true
    nn.queue_callback(function() finish(dp) end)
  end
  settle(dp)
  dp.count[i] = dp.count[i] + 1
  if dp.first then
    if not dp.seen[i] then dp.seen[i] = true; dp.arrival[#dp.arrival + 1] = i end
  elseif dp.overlap then
    local b = dp.bucket_of[i]
    if dp.count[i] > dp.expected[i] then
      fail("nn.dist.DataParallel", "%s received more gradients in this backward (%d) than in "
        .. "the first one (%d): its uses change from step to step; pass {overlap = false}",
        dp.names[i], dp.count[i], dp.expected[i])
    end
    if b > dp.launched then dp.last = i end
    launch_ready(dp)
    C.progress()
  end
end

-- nn.dist.DataParallel(model [, {bucket_mb = 1, overlap = true}]) -> model, dp
function M.DataParallel(model, opts)
  local fname = "nn.dist.DataParallel"
  if type(model) ~= "table" or type(model.parameters) ~= "function" then
    fail(fname, "expected a model (an nn.Module), got %s", type(model))
  end
  opts = options.check(fname, opts, {"bucket_mb", "overlap"})
  local mb = opts.bucket_mb or 1
  if type(mb) ~= "number" or not (mb > 0) then
    fail(fname, "bucket_mb must be a number > 0, got %s", tostring(opts.bucket_mb))
  end
  if opts.overlap ~= nil and type(opts.overlap) ~= "boolean" then
    fail(fname, "overlap must be true or false, got %s (%s)", type(opts.overlap),
      tostring(opts.overlap))
  end
  if attached[model] then return model, attached[model] end
  M.init()
  -- rank 1's parameters and buffers everywhere
  local names, sd = {}, model:state_dict()
  for k in pairs(sd) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do M.broadcast(sd[k], 1) end
  local dp = setmetatable({model = model, cap = mb * 1024 * 1024, overlap = opts.overlap ~= false,
    params = {}, names = {}, hooks = {}, count = {}, seen = {}, arrival = {}, had_grad = {},
    bucket_of = {}, first = true, launched = 0, early = 0, passes = 0, scale = 1 / M.size()}, DP)
  for name, p in model:named_parameters() do
    if p.requires_grad then dp.params[#dp.params + 1], dp.names[#dp.names + 1] = p, name end
  end
  local reverse = {}
  for i = #dp.params, 1, -1 do reverse[#reverse + 1] = i end
  dp.buckets = make_buckets(dp, reverse)
  for i, p in ipairs(dp.params) do
    dp.count[i] = 0
    if M.active() then
      dp.hooks[i] = p:register_hook(function() on_grad(dp, i) end)
    end
  end
  attached[model] = dp
  return model, dp
end

-- takes the hooks off: the model trains alone again
function DP:remove()
  for _, h in pairs(self.hooks) do h:remove() end
  self.hooks = {}
  attached[self.model] = nil
end

-- {passes, buckets, early}: backwards seen, buckets per backward, buckets started during one
function DP:stats()
  return {passes = self.passes, buckets = #self.buckets, early = self.early}
end

function DP:__tostring()
  return string.format("nn.dist.DataParallel(%d params in %d buckets, rank %d of %d)",
    #self.params, #self.buckets, M.rank(), M.size())
end

nn.document("Distributed", {
  {"dist.init", M.init, "nn.dist.init([{timeout = 600}]) -> rank, size",
    "Starts MPI once (under mpirun; otherwise a world of one); a collective that waits longer "
      .. "than timeout seconds on the other ranks ends the job with a message naming it."},
  {"dist.rank", M.rank, "nn.dist.rank() -> integer", "This process's rank, 1 to nn.dist.size()."},
  {"dist.size", M.size, "nn.dist.size() -> integer", "The number of ranks (1 without mpirun)."},
  {"dist.allreduce", M.allreduce, "nn.dist.allreduce(t [, \"sum\"|\"mean\"|\"max\"]) -> t",
    "Replaces t, on every rank, by the elementwise sum, mean or max over the ranks; the ranks' "
      .. "tensors must agree in shape and dtype (an error otherwise, on every rank)."},
  {"dist.broadcast", M.broadcast, "nn.dist.broadcast(t [, root = 1]) -> t",
    "Copies root's t into every rank's t (in place; same shape and dtype everywhere)."},
  {"dist.barrier", M.barrier, "nn.dist.barrier()", "Waits until every rank has called it."},
  {"dist.allgather", M.allgather, "nn.dist.allgather(t) -> tensor",
    "Every rank's t, stacked along a new first dimension of size nn.dist.size()."},
  {"dist.stats", M.stats, "nn.dist.stats() -> {wait, calls}",
    "Seconds this rank spent blocked in collectives, and how many it made."},
  {"dist.DataParallel", M.DataParallel,
    "nn.dist.DataParallel(model [, {bucket_mb = 1, overlap = true}]) -> model, dp",
    "Broadcasts rank 1's parameters and buffers; from then on every loss:backward() leaves in "
      .. ".grad the mean over the ranks, allreduced in buckets while backward runs. "
      .. "overlap = false waits for the end of backward (for graphs that change per step)."},
})

return M
