-- stdlib/nn/layers.lua: the standard layers, as nn.Module classes.
--
-- Each layer holds its parameters under PyTorch's names and layouts (Linear's weight is
-- out x in) and initializes them as PyTorch's reset_parameters does, so state dicts move
-- between the two. The computing is done by the C functions (nn.linear, nn.layer_norm, ...).
local nn = require "nn"
local Module = require "nn.module"
local init = require "nn.initializers"
local options = require "nn.options"

local L = {}

local fail = options.fail

local function check_size(fname, what, n)
  n = options.whole(n) or n
  if math.type(n) ~= "integer" or n < 0 then
    fail(fname, "%s must be a non-negative integer, got %s", what, tostring(n))
  end
  return n
end

local shape_str = options.shape_str

-- ---- Linear ----

L.Linear = Module:extend("Linear")

function L.Linear:init(nin, nout, opts)
  nin = check_size("Linear", "in", nin)
  nout = check_size("Linear", "out", nout)
  opts = options.check("nn.Linear", opts, {"bias"})
  if opts.bias ~= nil and type(opts.bias) ~= "boolean" then
    fail("Linear", "bias must be true or false, got %s (%s)", type(opts.bias), tostring(opts.bias))
  end
  self.in_features, self.out_features = nin, nout
  -- a = sqrt(5) is PyTorch's choice: uniform in +-1/sqrt(in), like the bias
  self.weight = self:parameter(init.kaiming_uniform_(nn.empty(nout, nin), {a = math.sqrt(5)}))
  if opts.bias ~= false then
    local bound = nin > 0 and 1 / math.sqrt(nin) or 0
    self.bias = self:parameter(init.uniform_(nn.empty(nout), -bound, bound))
  end
end

function L.Linear:forward(x)
  local n = x:dim() > 0 and x:size(x:dim()) or 0
  if n ~= self.in_features then
    fail("Linear", "input has %d features, expected %d (input shape %s)", n, self.in_features,
      shape_str(x))
  end
  local w = self.weight
  if w and x:dtype() ~= w:dtype() then
    local dt = x:dtype()
    if dt ~= "f32" and dt ~= "f64" then
      fail("Linear", "input is %s, expected a float tensor (x:to(\"%s\"))", dt, w:dtype())
    end
    fail("Linear", "input is %s but the weight is %s (convert one: x:to(\"%s\") or m:to(\"%s\"))",
      x:dtype(), w:dtype(), w:dtype(), x:dtype())
  end
  -- a learning rule (nn.rules) computes through its own linear op for the length of its step
  local through = rawget(self, "_through")
  if through then return through(self, x) end
  return nn.linear(x, self.weight, self.bias)
end

function L.Linear:extra_repr()
  return string.format("in=%d, out=%d, bias=%s", self.in_features, self.out_features,
    tostring(self.bias ~= nil))
end

-- ---- containers and reshaping ----

L.Sequential = Module:extend("Sequential")
L.Sequential.any_input = true -- its first layer checks

-- nn.Sequential(a, b, c) or nn.Sequential{a, b, c}
function L.Sequential:init(...)
  local mods = table.pack(...)
  if mods.n == 1 and type(mods[1]) == "table" and not Module.is_module(mods[1]) then
    mods = table.pack(table.unpack(mods[1]))
  end
  for i = 1, mods.n do self:add(mods[i]) end
end

function L.Sequential:add(m)
  if not Module.is_module(m) then
    fail(self.__name, "layer %d is a %s (%s), not a module", #self._children + 1, type(m),
      tostring(m))
  end
  local i = #self._children + 1
  self:add_module(tostring(i - 1), m, i)
  return self
end

function L.Sequential:forward(x)
  for i = 1, #self._children do x = self[i](x) end
  return x
end

-- a list of modules whose parameters count, as Sequential, but with no forward of its own
L.ModuleList = L.Sequential:extend("ModuleList")

function L.ModuleList:forward()
  fail("ModuleList", "has no forward of its own: call its modules, list[i](x)")
end

L.Identity = Module:extend("Identity")
L.Identity.any_input = true
function L.Identity:forward(x) return x end

L.Flatten = Module:extend("Flatten")

function L.Flatten:init(start_dim, end_dim)
  self.start_dim, self.end_dim = start_dim or 2, end_dim or -1
end

function L.Flatten:forward(x) return x:flatten(self.start_dim, self.end_dim) end

function L.Flatten:extra_repr()
  return string.format("start=%d, end=%d", self.start_dim, self.end_dim)
end

-- ---- regularization and normalization ----

L.Dropout = Module:extend("Dropout")

function L.Dropout:init(p)
  p = p or 0.5
  if type(p) ~= "number" or p < 0 or p > 1 then
    fail("Dropout", "p must be a probability in [0, 1], got %s", tostring(p))
  end
  self.p = p
end

function L.Dropout:forward(x) return nn.dropout(x, self.p, self.training) end
function L.Dropout:extra_repr() return "p=" .. self.p end

-- eps of the norms: a number (PyTorch checks no range), 1e-5 when not given
local function check_eps(name, eps)
  if eps ~= nil and type(eps) ~= "number" then
    fail(name, "eps must be a number, got %s (%s)", type(eps), tostring(eps))
  end
  return eps or 1e-5
end

L.LayerNorm = Module:extend("LayerNorm")

function L.LayerNorm:init(n, opts)
  n = check_size("LayerNorm", "n", n)
  opts = options.check("nn.LayerNorm", opts, {"eps", "elementwise_affine"})
  self.normalized_size, self.eps = n, check_eps("LayerNorm", opts.eps)
  if opts.elementwise_affine ~= false then
    self.weight = self:parameter(nn.ones(n))
    self.bias = self:parameter(nn.zeros(n))
  end
end

function L.LayerNorm:forward(x)
  return nn.layer_norm(x, self.normalized_size, self.weight, self.bias, self.eps)
end

function L.LayerNorm:extra_repr()
  return string.format("%d, eps=%g", self.normalized_size, self.eps)
end

L.BatchNorm1d = Module:extend("BatchNorm1d")

-- opts.momentum = false: running statistics as cumulative averages (PyTorch's momentum=None).
-- BatchNorm2d (stdlib/nn/cnn.lua) extends this class with its own input check.
function L.BatchNorm1d:init(n, opts)
  local name = self.__name
  n = check_size(name, "n", n)
  opts = options.check("nn." .. name, opts, {"eps", "momentum", "affine"})
  local momentum = opts.momentum
  if momentum == nil then momentum = 0.1 end
  if momentum ~= false and (type(momentum) ~= "number" or momentum < 0 or momentum > 1) then
    fail(name, "momentum must be a number in [0, 1] or false, got %s", tostring(momentum))
  end
  self.num_features, self.eps, self.momentum = n, check_eps(name, opts.eps), momentum
  if opts.affine ~= false then
    self.weight = self:parameter(nn.ones(n))
    self.bias = self:parameter(nn.zeros(n))
  end
  self.running_mean = self:buffer(nn.zeros(n))
  self.running_var = self:buffer(nn.ones(n))
  self.num_batches_tracked = self:buffer(nn.full({}, 0, "i64"))
end

-- x (N, C, ...) with C = num_features, normalized per channel over every other dim
function L.BatchNorm1d:normalize(x)
  if x:size(2) ~= self.num_features then
    fail(self.__name, "input has %d channels, expected %d (input shape %s)", x:size(2),
      self.num_features, shape_str(x))
  end
  local momentum = self.momentum
  if self.training then
    local nbt = self.num_batches_tracked
    nbt:fill_(nbt:item() + 1)
    if momentum == false then momentum = 1 / nbt:item() end
  end
  return nn.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
    self.training, momentum or 0, self.eps)
end

-- (N, C) or (N, C, L) as PyTorch's; (N, C, L) is normalized per channel over N and L
function L.BatchNorm1d:forward(x)
  if x:dim() ~= 2 and x:dim() ~= 3 then
    fail("BatchNorm1d", "input must be (N, C) or (N, C, L), got shape %s", shape_str(x))
  end
  return self:normalize(x)
end

function L.BatchNorm1d:extra_repr()
  return string.format("%d, eps=%g, momentum=%s", self.num_features, self.eps,
    tostring(self.momentum))
end

L.Embedding = Module:extend("Embedding")

-- opts.padding_idx (1-based, negative from the end): that row starts at zeros and never
-- gets a gradient, as PyTorch's
function L.Embedding:init(n, d, opts)
  n = check_size("Embedding", "n", n)
  d = check_size("Embedding", "d", d)
  opts = options.check("nn.Embedding", opts, {"padding_idx"})
  self.num_embeddings, self.embedding_dim = n, d
  local w = init.normal_(nn.empty(n, d))
  local pad = opts.padding_idx
  if pad ~= nil then
    pad = options.whole(pad) or pad
    if math.type(pad) ~= "integer" or pad == 0 or pad > n or pad < -n then
      fail("Embedding", "padding_idx must be an index in 1..%d (or -%d..-1), got %s", n, n,
        tostring(pad))
    end
    if pad < 0 then pad = n + 1 + pad end
    w[pad] = 0
    self.padding_idx = pad
  end
  self.weight = self:parameter(w)
end

function L.Embedding:forward(idx) return nn.embedding(idx, self.weight, self.padding_idx) end

function L.Embedding:extra_repr()
  local pad = self.padding_idx and ", padding_idx=" .. self.padding_idx or ""
  return string.format("%d, %d%s", self.num_embeddings, self.embedding_dim, pad)
end

-- ---- activations: one class per function of nn, made from a table ----

-- class name = {function name, names of its optional parameters (positional)}
local activations = {
  ReLU = {"relu"}, ReLU2 = {"relu2"}, LeakyReLU = {"leaky_relu", "negative_slope"},
  ELU = {"elu", "alpha"}, GELU = {"gelu", "approximate"}, SiLU = {"silu", "beta"},
  Mish = {"mish"}, Softplus = {"softplus", "beta", "threshold"}, Sigmoid = {"sigmoid"},
  Tanh = {"tanh"}, Hardtanh = {"hardtanh", "min_val", "max_val"}, SmeLU = {"smelu", "beta"},
  Snake = {"snake", "a"}, Softmax = {"softmax", "dim"}, LogSoftmax = {"log_softmax", "dim"},
  ShiftedReLU = {"shifted_relu", "b"}, FATReLU = {"fatrelu", "threshold"},
  HeLU = {"helu", "alpha"}, ReGELU2 = {"regelu2"}, ReSiLU2 = {"resilu2"},
}

local function activation(name, spec)
  local cls = Module:extend(name)
  local fname = spec[1]
  function cls:init(...)
    self.args = table.pack(...)
    for i = 2, #spec do -- the parameters are numbers (gelu's approximate a name)
      local v, want = self.args[i - 1], spec[i] == "approximate" and "string" or "number"
      if v ~= nil and type(v) ~= want then
        fail(name, "%s must be a %s, got %s (%s)", spec[i], want, type(v), tostring(v))
      end
    end
  end
  function cls:forward(x)
    return nn[fname](x, table.unpack(self.args, 1, self.args.n))
  end
  function cls:extra_repr()
    local parts = {}
    for i = 1, self.args.n do
      parts[#parts + 1] = (spec[i + 1] or "arg" .. i) .. "=" .. tostring(self.args[i])
    end
    return table.concat(parts, ", ")
  end
  return cls
end

local act_names = {}
for name, spec in pairs(activations) do
  L[name] = activation(name, spec)
  act_names[#act_names + 1] = name
end
table.sort(act_names)
L.Swish = L.SiLU

-- ---- docs ----

local docs = {
  {"Linear", L.Linear, "nn.Linear(in, out [, {bias=true}])",
    "y = x W^T + b, W out x in; PyTorch's init (kaiming_uniform_ with a = sqrt(5))."},
  {"Sequential", L.Sequential, "nn.Sequential(m1, m2, ...)",
    "Applies the modules in turn; seq[i] is the i-th, its state-dict names are \"0\", \"1\", ..."},
  {"Sequential:add", L.Sequential.add, "seq:add(m) -> seq", "Appends a module."},
  {"ModuleList", L.ModuleList, "nn.ModuleList(m1, m2, ...)",
    "Holds modules in a list (list[i], list:add(m)) so that their parameters are registered."},
  {"Identity", L.Identity, "nn.Identity()", "Returns its input."},
  {"Flatten", L.Flatten, "nn.Flatten([start=2 [, end=-1]])",
    "Flattens dims start..end into one (keeps the batch dim)."},
  {"Dropout", L.Dropout, "nn.Dropout([p=0.5])",
    "Zeroes each element with probability p and scales the rest by 1/(1-p), in training only."},
  {"LayerNorm", L.LayerNorm, "nn.LayerNorm(n [, {eps=1e-5, elementwise_affine=true}])",
    "Normalizes the last dim (size n) to zero mean and unit variance, then scales and shifts."},
  {"BatchNorm1d", L.BatchNorm1d, "nn.BatchNorm1d(n [, {eps=1e-5, momentum=0.1, affine=true}])",
    "Normalizes each of n features (channels) of (N, C) or (N, C, L) input over the batch; "
      .. "keeps running mean and variance for eval (momentum=false: cumulative averages)."},
  {"Embedding", L.Embedding, "nn.Embedding(n, d [, {padding_idx}])",
    "A table of n vectors of size d (normal init), looked up by 1-based i64 indices; the row "
      .. "padding_idx starts at zeros and gets no gradient."},
}
for _, name in ipairs(act_names) do
  local spec = activations[name]
  local params = {}
  for i = 2, #spec do params[#params + 1] = spec[i] end
  docs[#docs + 1] = {name, L[name],
    "nn." .. name .. "(" .. (#params > 0 and "[" .. table.concat(params, ", ") .. "]" or "") .. ")",
    "The module of nn." .. spec[1] .. ": m(x) = nn." .. spec[1] .. "(x"
      .. (#params > 0 and ", " .. table.concat(params, ", ") or "") .. ")."}
end
nn.document("Modules", docs)

return L
