-- stdlib/nn/optim.lua: nn.optim, optimizers and learning-rate schedules.
--
-- An optimizer holds a list of parameters, its hyperparameters as plain fields (opt.lr can be
-- read and written at any time) and a state per parameter, keyed by the parameter's index.
-- opt:step() hands each parameter that has a gradient to a fused C kernel (nn._adam_step, ...),
-- which updates it and its state in place with torch.optim's formulas.
local nn = require "nn"
local options = require "nn.options"

local optim = {}

local function fail(fname, fmt, ...)
  error("nn.optim." .. fname .. ": " .. string.format(fmt, ...), 0)
end

local function is_float(t)
  local d = t:dtype()
  return d == "f32" or d == "f64"
end

-- the parameters as a list of float tensors: from a module, a list, or one tensor
local function param_list(fname, params)
  if type(params) == "table" and type(params.parameters) == "function" then
    params = params:parameters()
  elseif nn.is_tensor(params) then
    params = {params}
  end
  if type(params) ~= "table" then
    fail(fname, "expected a module or a list of tensors, got %s (%s)", type(params),
      tostring(params))
  end
  if #params == 0 then fail(fname, "the list of parameters is empty") end
  for i, p in ipairs(params) do
    if not nn.is_tensor(p) then fail(fname, "parameter %d is a %s, not a tensor", i, type(p)) end
    if not is_float(p) then fail(fname, "parameter %d is %s, expected f32 or f64", i, p:dtype()) end
    if not p.is_leaf then
      fail(fname, "parameter %d is not a leaf (it has grad_fn %s): an optimizer updates leaves, "
        .. "such as a module's parameters or x:detach():requires_grad_()", i, tostring(p.grad_fn))
    end
  end
  local seen = {}
  for i, p in ipairs(params) do
    if seen[p] then
      fail(fname, "parameter %d is parameter %d again (it would be updated twice)", i, seen[p])
    end
    seen[p] = i
  end
  return table.move(params, 1, #params, 1, {})
end

-- the hyperparameters' ranges, as torch.optim checks them (alpha also at most 1: beyond, the
-- running average of squares turns negative); checked at creation and at every step, since
-- they are fields anyone may set
local RANGES = {
  lr = {0, math.huge}, eps = {0, math.huge}, weight_decay = {0, math.huge},
  momentum = {0, math.huge}, dampening = {0, math.huge}, alpha = {0, 1},
}

local function check_hyperparameters(opt)
  for k, range in pairs(RANGES) do
    local v = opt[k]
    if opt.defaults[k] ~= nil and (type(v) ~= "number" or not (v >= range[1] and v <= range[2])) then
      fail(opt.name, "%s must be a number in [%g, %g], got %s", k, range[1], range[2], tostring(v))
    end
  end
  for _, k in ipairs({"nesterov", "amsgrad", "maximize", "centered"}) do
    if opt.defaults[k] ~= nil and type(opt[k]) ~= "boolean" then
      fail(opt.name, "%s must be true or false, got %s (%s)", k, type(opt[k]), tostring(opt[k]))
    end
  end
  local betas = opt.betas
  if opt.defaults.betas ~= nil then
    if type(betas) ~= "table" or #betas ~= 2 then
      fail(opt.name, "betas must be a pair {beta1, beta2}, got %s", type(betas) == "table"
        and #betas .. " values" or tostring(betas))
    end
    for i = 1, 2 do
      local b = betas[i]
      if type(b) ~= "number" or not (b >= 0 and b < 1) then
        fail(opt.name, "betas[%d] must be a number in [0, 1), got %s", i, tostring(b))
      end
    end
  end
  if opt.nesterov and (opt.momentum <= 0 or opt.dampening ~= 0) then
    fail(opt.name, "nesterov needs a momentum above 0 and dampening 0 (momentum %g, dampening %g)",
      opt.momentum, opt.dampening)
  end
end

local function zeros_like(p)
  return nn.zeros(p:shape(), p:dtype())
end

-- ---- the base ----

local Optimizer = {}
Optimizer.__index = Optimizer

-- a class: its name, its defaults (the hyperparameters it knows), kernel_opts(self) (the
-- options table of its C kernel) and its update(st, p, g, k) with k = that table
local function class(name, defaults, kernel_opts, update)
  local cls = {name = name, defaults = defaults, kernel_opts = kernel_opts, update = update}
  cls.__index = cls
  cls.__tostring = Optimizer.__tostring
  return setmetatable(cls, {
    __index = Optimizer,
    __call = function(c, params, opts) return c:new(params, opts) end,
    __tostring = function() return "nn.optim." .. name end,
  })
end

function Optimizer:new(params, opts)
  opts = options.check("nn.optim." .. self.name, opts, self.defaults)
  local opt = setmetatable({params = param_list(self.name, params), state = {}}, self)
  for k, v in pairs(self.defaults) do opt[k] = v end
  for k, v in pairs(opts) do opt[k] = v end
  check_hyperparameters(opt)
  return opt
end

-- Updates every parameter that has a gradient. With a closure (which recomputes the loss and
-- its gradients), returns the closure's loss.
function Optimizer:step(closure)
  local mt = getmetatable(closure)
  if closure ~= nil and type(closure) ~= "function" and not (mt and mt.__call) then
    fail(self.name .. ":step", "closure must be a function, got %s (%s)", type(closure),
      tostring(closure))
  end
  local loss
  if closure then loss = closure() end
  check_hyperparameters(self)
  local k = self:kernel_opts()
  for i, p in ipairs(self.params) do
    local g = p.grad
    if g ~= nil then
      local st = self.state[i] or {step = 0}
      self.state[i] = st
      st.step = st.step + 1
      self.update(st, p, g:contiguous(), k)
    end
  end
  return loss
end

function Optimizer:zero_grad()
  for _, p in ipairs(self.params) do p.grad = nil end
end

function Optimizer:hyperparameters()
  local h = {}
  for k in pairs(self.defaults) do h[k] = self[k] end
  return h
end

function Optimizer:__tostring()
  local parts = {}
  for k, v in pairs(self:hyperparameters()) do
    if type(v) == "table" then v = "{" .. table.concat(v, ", ") .. "}" end
    parts[#parts + 1] = k .. "=" .. tostring(v)
  end
  table.sort(parts)
  return string.format("%s(%d parameters, %s)", self.name, #self.params, table.concat(parts, ", "))
end

-- {state = {[i] = {step = n, exp_avg = tensor, ...}}, param_groups = {{lr = ..., params}}},
-- as torch.optim's; the tensors are the optimizer's own (save them, do not change them)
function Optimizer:state_dict()
  local group = self:hyperparameters()
  group.params = {}
  for i = 1, #self.params do group.params[i] = i end
  local state = {}
  for i, st in pairs(self.state) do
    local copy = {}
    for k, v in pairs(st) do copy[k] = v end
    state[i] = copy
  end
  return {state = state, param_groups = {group}}
end

local function load_state_entry(fname, i, st, p)
  local out = {}
  for k, v in pairs(st) do
    if nn.is_tensor(v) then
      if table.concat(v:shape(), ",") ~= table.concat(p:shape(), ",") then
        fail(fname, "state %s of parameter %d has shape {%s}, the parameter {%s}", k, i,
          table.concat(v:shape(), ","), table.concat(p:shape(), ","))
      end
      v = v:to(p:dtype()):contiguous():clone()
    end
    out[k] = v
  end
  return out
end

function Optimizer:load_state_dict(sd)
  local fname = self.name .. ":load_state_dict"
  if type(sd) ~= "table" or type(sd.state) ~= "table" then
    fail(fname, "expected a table {state = ..., param_groups = ...}, got %s", type(sd))
  end
  if sd.param_groups ~= nil and (type(sd.param_groups) ~= "table"
      or (sd.param_groups[1] ~= nil and type(sd.param_groups[1]) ~= "table")) then
    fail(fname, "param_groups must be a list of tables, got %s (%s)", type(sd.param_groups),
      tostring(sd.param_groups))
  end
  local group = sd.param_groups and sd.param_groups[1] or {}
  if group.params and #group.params ~= #self.params then
    fail(fname, "the saved state has %d parameters, this optimizer %d", #group.params,
      #self.params)
  end
  local state = {}
  for i, st in pairs(sd.state) do
    local p = self.params[i]
    if not p then fail(fname, "state for parameter %s, which does not exist", tostring(i)) end
    state[i] = load_state_entry(fname, i, st, p)
  end
  self.state = state
  for k in pairs(self.defaults) do
    if group[k] ~= nil then self[k] = group[k] end
  end
end

-- ---- the optimizers ----

-- SGD's and RMSprop's kernels take the hyperparameters as they are
optim.SGD = class("SGD",
  {lr = 1e-3, momentum = 0, dampening = 0, nesterov = false, weight_decay = 0, maximize = false},
  Optimizer.hyperparameters,
  function(st, p, g, k)
    if k.momentum ~= 0 and not st.momentum_buffer then st.momentum_buffer = zeros_like(p) end
    options.call_as("nn.optim.SGD:step", nn._sgd_step, p, g,
      k.momentum ~= 0 and st.momentum_buffer or nil, k, st.step)
  end)

local function adam_update(st, p, g, k)
  st.exp_avg = st.exp_avg or zeros_like(p)
  st.exp_avg_sq = st.exp_avg_sq or zeros_like(p)
  if k.amsgrad then st.max_exp_avg_sq = st.max_exp_avg_sq or zeros_like(p) end
  options.call_as(k.decoupled and "nn.optim.AdamW:step" or "nn.optim.Adam:step", nn._adam_step, p,
    g, st.exp_avg, st.exp_avg_sq, k, st.step, k.amsgrad and st.max_exp_avg_sq or nil)
end

local function adam_opts(decoupled)
  return function(self)
    local betas = self.betas
    if type(betas) ~= "table" or #betas ~= 2 then
      fail(self.name, "betas must be a pair {beta1, beta2}, got %s", type(betas) == "table"
        and #betas .. " values" or tostring(betas))
    end
    return {lr = self.lr, beta1 = betas[1], beta2 = betas[2], eps = self.eps,
      weight_decay = self.weight_decay, decoupled = decoupled, maximize = self.maximize,
      amsgrad = self.amsgrad}
  end
end

optim.Adam = class("Adam",
  {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0, amsgrad = false,
    maximize = false},
  adam_opts(false), adam_update)

optim.AdamW = class("AdamW",
  {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2, amsgrad = false,
    maximize = false},
  adam_opts(true), adam_update)

optim.RMSprop = class("RMSprop",
  {lr = 1e-2, alpha = 0.99, eps = 1e-8, momentum = 0, centered = false, weight_decay = 0,
    maximize = false},
  Optimizer.hyperparameters,
  function(st, p, g, k)
    st.square_avg = st.square_avg or zeros_like(p)
    if k.centered then st.grad_avg = st.grad_avg or zeros_like(p) end
    if k.momentum > 0 then st.momentum_buffer = st.momentum_buffer or zeros_like(p) end
    options.call_as("nn.optim.RMSprop:step", nn._rmsprop_step, p, g, st.square_avg,
      k.centered and st.grad_avg or nil,
      k.momentum > 0 and st.momentum_buffer or nil, k)
  end)

-- ---- schedules ----
-- A schedule owns opt.lr: made with the optimizer's current lr as its peak (base_lr), it sets
-- opt.lr for step 0 at once; each sched:step() (call it after opt:step()) moves to the next.

local Schedule = {}
Schedule.__index = Schedule

function Schedule:step()
  self.t = self.t + 1
  self.opt.lr = self:lr_at(self.t)
  return self.opt.lr
end

function Schedule:get_lr()
  return self.opt.lr
end

function Schedule:state_dict()
  return {t = self.t, base_lr = self.base_lr}
end

function Schedule:load_state_dict(sd)
  if type(sd) ~= "table" or math.type(options.whole(sd.t)) ~= "integer" then
    fail("schedule:load_state_dict", "expected a table {t = step, base_lr = lr} from "
      .. "sched:state_dict(), got %s (%s)", type(sd), tostring(sd))
  end
  self.t, self.base_lr = sd.t, sd.base_lr or self.base_lr
  self.opt.lr = self:lr_at(self.t)
end

local function check_steps(fname, opts, key)
  local n = options.whole(opts[key]) or opts[key]
  if math.type(n) ~= "integer" or n < 1 then
    fail("schedule." .. fname, "%s must be a positive integer, got %s", key, tostring(n))
  end
  return n
end

local SCHEDULE_OPTIONS = {linear = {"total", "warmup"}, cosine = {"total", "warmup", "min_lr"},
  step = {"step_size", "gamma"}}

local function schedule(fname, opt, opts, lr_at)
  if type(opt) ~= "table" or type(opt.lr) ~= "number" then
    fail("schedule." .. fname, "the first argument must be an optimizer, got %s (%s)", type(opt),
      tostring(opt))
  end
  local s = setmetatable({opt = opt, opts = opts, base_lr = opt.lr, t = 0, lr_at = lr_at}, Schedule)
  opt.lr = s:lr_at(0)
  return s
end

local function check_warmup(fname, opts, total)
  local warmup = options.whole(opts.warmup or 0) or opts.warmup
  if math.type(warmup) ~= "integer" or warmup < 0 or warmup >= total then
    fail("schedule." .. fname, "warmup must be an integer in [0, total = %s), got %s",
      tostring(total), tostring(warmup))
  end
  return warmup
end

-- a schedule of opts.total steps that warms up linearly for opts.warmup of them, lr at step t
-- (0-based) base_lr (t + 1) / warmup, so that no step is taken at lr 0; then
-- after(self, t, total, warmup)
local function warmed_up(fname, opt, opts, after)
  options.check("nn.optim.schedule." .. fname, opts, SCHEDULE_OPTIONS[fname])
  local total = check_steps(fname, opts, "total")
  local warmup = check_warmup(fname, opts, total)
  return schedule(fname, opt, opts, function(self, t)
    if t < warmup then return self.base_lr * ((t + 1) / warmup) end
    return after(self, t, total, warmup)
  end)
end

optim.schedule = {}

-- linear warmup for `warmup` steps, then linear decay to 0 at step `total`
function optim.schedule.linear(opt, opts)
  return warmed_up("linear", opt, opts or {}, function(self, t, total, warmup)
    return self.base_lr * math.max(0, total - t) / (total - warmup)
  end)
end

-- linear warmup, then half a cosine from base_lr down to min_lr at step `total`
function optim.schedule.cosine(opt, opts)
  opts = opts or {}
  local min_lr = opts.min_lr or 0
  if type(min_lr) ~= "number" or not (min_lr >= 0) then
    fail("schedule.cosine", "min_lr must be a number >= 0, got %s (%s)", type(min_lr),
      tostring(min_lr))
  end
  return warmed_up("cosine", opt, opts, function(self, t, total, warmup)
    local progress = math.min(1, (t - warmup) / (total - warmup))
    return min_lr + (self.base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
  end)
end

-- lr times gamma every step_size steps
function optim.schedule.step(opt, opts)
  opts = opts or {}
  options.check("nn.optim.schedule.step", opts, SCHEDULE_OPTIONS.step)
  local step_size = check_steps("step", opts, "step_size")
  local gamma = opts.gamma or 0.1
  if type(gamma) ~= "number" or not (gamma >= 0) then
    fail("schedule.step", "gamma must be a number >= 0, got %s (%s)", type(gamma), tostring(gamma))
  end
  return schedule("step", opt, opts, function(self, t)
    return self.base_lr * gamma ^ (t // step_size)
  end)
end

nn.document("Optimizers", {
  {"optim.SGD", optim.SGD,
    "nn.optim.SGD(params, {lr=1e-3, momentum=0, dampening=0, nesterov=false, weight_decay=0})",
    "Stochastic gradient descent, with momentum and Nesterov momentum as torch.optim.SGD."},
  {"optim.Adam", optim.Adam,
    "nn.optim.Adam(params, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0})",
    "Adam (Kingma and Ba 2015); weight_decay adds wd * p to the gradient."},
  {"optim.AdamW", optim.AdamW,
    "nn.optim.AdamW(params, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=1e-2})",
    "Adam with decoupled weight decay (Loshchilov and Hutter 2019): p *= 1 - lr * wd."},
  {"optim.RMSprop", optim.RMSprop,
    "nn.optim.RMSprop(params, {lr=1e-2, alpha=0.99, eps=1e-8, momentum=0, centered=false})",
    "Divides the gradient by a running root mean square of its recent values."},
  {"optim.Optimizer:step", Optimizer.step, "opt:step([closure]) -> loss",
    "Updates every parameter that has a .grad; params is a module or a list of tensors."},
  {"optim.Optimizer:zero_grad", Optimizer.zero_grad, "opt:zero_grad()",
    "Sets the .grad of every parameter to nil."},
  {"optim.Optimizer:state_dict", Optimizer.state_dict, "opt:state_dict() -> table",
    "{state = {[i] = {step, exp_avg, ...}}, param_groups = {{lr, ...}}} for checkpoints."},
  {"optim.Optimizer:load_state_dict", Optimizer.load_state_dict, "opt:load_state_dict(sd)",
    "Restores the state and hyperparameters saved by opt:state_dict()."},
  {"optim.schedule.linear", optim.schedule.linear,
    "nn.optim.schedule.linear(opt, {total, warmup=0})",
    "Linear warmup to opt.lr, then linear decay to 0 at step total; sched:step() each step."},
  {"optim.schedule.cosine", optim.schedule.cosine,
    "nn.optim.schedule.cosine(opt, {total, warmup=0, min_lr=0})",
    "Linear warmup, then a half cosine from opt.lr down to min_lr at step total."},
  {"optim.Schedule:step", Schedule.step, "sched:step() -> lr",
    "Moves the schedule one step on and sets opt.lr; call it after each opt:step()."},
  {"optim.schedule.step", optim.schedule.step,
    "nn.optim.schedule.step(opt, {step_size, gamma=0.1})",
    "Multiplies the lr by gamma every step_size calls of sched:step()."},
})

optim.Optimizer = Optimizer
return optim
