-- stdlib/nn/activations.lua: activations with learnable parameters, gated layers and the
-- discrete-sample gradients, and their modules.
--
-- The learnable and gated ones check their arguments here and run as one fused C op each
-- (nn/ops/act_param.c, act_rational.c, act_gated.c: exact gradients for x and for the
-- parameters, in both modes); the discrete-sample ones are nn.Functions of C ops. The
-- modules own their parameters, one per channel (dim 2 of the input, or the last dim of a
-- 2-D input) or one shared.
local nn = require "nn"
local Module = require "nn.module"
local options = require "nn.options"
local Linear = require("nn.layers").Linear

local A = {}
local SQRT_2PI = math.sqrt(2 * math.pi)

local fail = options.fail

-- p (a number, or a tensor of 1 or C values, C = dim 2 of x, dim 1 of a 1-D x) as the C op
-- takes it: a tensor of 1 or C values
local function per_channel(fname, x, p)
  if not nn.is_tensor(p) then
    if type(p) ~= "number" then fail(fname, "a parameter must be a number or a tensor, not %s", type(p)) end
    return nn.full({1}, p)
  end
  local n = p:numel()
  if n == 1 then return p end
  local c = x:dim() >= 2 and x:size(2) or (x:dim() == 1 and x:size(1) or 1)
  if n ~= c then
    fail(fname, "%d parameters for %d channels (input shape {%s})", n, c,
      table.concat(x:shape(), ","))
  end
  return p
end

local function check_positive(fname, what, v)
  local x = nn.is_tensor(v) and v:min():item() or v
  if type(x) ~= "number" or not (x > 0) then
    fail(fname, "%s must be positive, not %s", what, tostring(x))
  end
end

-- each a fused C op (nn/ops/act_param.c): one pass forward, one backward that also reduces
-- the parameters' gradients
function A.prelu(x, a)
  return nn._act_param("nn.prelu", "prelu", x, per_channel("prelu", x, a))
end

function A.swish_beta(x, beta)
  return nn._act_param("nn.swish_beta", "swish_beta", x, per_channel("swish_beta", x, beta))
end

function A.snake_a(x, a)
  return nn._act_param("nn.snake_a", "snake_a", x, per_channel("snake_a", x, a))
end

-- alpha x + (1 - alpha) [x Phi(x / sigma) + sigma phi(x / sigma)]
function A.sau(x, alpha, sigma)
  sigma = sigma or 1
  if not nn.is_tensor(sigma) or sigma:numel() == 1 then check_positive("sau", "sigma", sigma) end
  alpha, sigma = per_channel("sau", x, alpha or 0.01), per_channel("sau", x, sigma)
  if alpha:numel() ~= sigma:numel() then -- one shared, the other per channel
    local n = math.max(alpha:numel(), sigma:numel())
    if alpha:numel() == 1 then alpha = alpha:reshape(1):expand(n) else sigma = sigma:reshape(1):expand(n) end
  end
  return nn._act_param("nn.sau", "sau", x, alpha, sigma)
end

-- P(x) / (1 + |sum_k b_k x^k|), a = {a_0..a_m}, b = {b_1..b_n} (1-D tensors)
function A.rational(x, a, b)
  for _, c in ipairs({{"numerator", a}, {"denominator", b}}) do
    if not nn.is_tensor(c[2]) or c[2]:dim() ~= 1 then
      fail("rational", "the %s coefficients must be a 1-D tensor", c[1])
    end
  end
  return nn._rational("nn.rational", x, a, b)
end

-- The dim a function works along (negative: from the end), checked against x's shape.
local function along(name, x, dim)
  if not nn.is_tensor(x) then fail(name, "the input must be a tensor, not %s", type(x)) end
  if type(dim) ~= "number" then fail(name, "dim must be a number, not %s", type(dim)) end
  local d = dim < 0 and x:dim() + 1 + dim or dim
  if math.type(d) ~= "integer" or d < 1 or d > x:dim() then
    fail(name, "dim %s is out of range for input shape {%s}", tostring(dim),
      table.concat(x:shape(), ","))
  end
  return d
end

-- ReLU attention weights: relu(s) / L along dim (default the last), L its length
function A.relu_attention(s, dim)
  return nn._relu_scaled("nn.relu_attention", s, 1 / s:size(along("relu_attention", s, dim or -1)))
end

-- ---- gated: the dim (2h wide) splits into a (first h) and b (last h); one fused C op
-- (nn/ops/act_gated.c), the gate a number ----
local gates = {glu = 0, reglu = 1, geglu = 2, swiglu = 3, bilinear = 4}
for name, g in pairs(gates) do
  A[name] = function(x, dim)
    local d = along(name, x, dim or -1)
    local w = x:size(d)
    if w % 2 ~= 0 then
      fail(name, "the input's dim %d has odd width %d (input shape {%s}); it must split in two",
        d, w, table.concat(x:shape(), ","))
    end
    return nn._gated("nn." .. name, x, d, g) -- glu: a * sigmoid(b), as PyTorch's F.glu; else g(a) * b
  end
end

-- ---- discrete samples: one-hot forward, ST / ReinMax backward ----

local function sample_one_hot(pi)
  local n, c = pi:size(1), pi:size(2)
  local u = nn.rand(n, 1):to(pi:dtype())
  local cum = pi:clone()
  for j = 2, c do cum:narrow(2, j, 1):copy_(cum:narrow(2, j - 1, 1) + pi:narrow(2, j, 1)) end
  local idx = (cum:lt(u)):to(nn.i64 or "i64"):sum(2) + 1
  idx = nn.minimum and nn.minimum(idx, nn.full({n}, c):to(idx:dtype())) or idx:clamp(1, c)
  return nn.one_hot(idx:view(n), c):to(pi:dtype())
end

-- J(pi) u = pi * u - pi (pi . u), row by row
local function jac(pi, u)
  return pi * u - pi * (pi * u):sum(2, true)
end

local function discrete(name, reinmax)
  return nn.Function{
    forward = function(ctx, logits, tau)
      local pi0 = nn.softmax(logits, 2)
      local d = sample_one_hot(pi0)
      ctx.logits, ctx.tau, ctx.d = logits, tau, d
      return d
    end,
    backward = function(ctx, g)
      local soft = nn.softmax(ctx.logits / ctx.tau, 2)
      if not reinmax then return jac(soft, g) / ctx.tau end
      local pi0 = nn.softmax(ctx.logits, 2)
      local pi1 = (soft + ctx.d) * 0.5
      local r = jac(pi1, g) * 2 - jac(pi0, g) * 0.5
      return r - r:mean(2, true)
    end,
  }
end
local st_fn, reinmax_fn = discrete("straight_through", false), discrete("reinmax", true)

local function check_logits(fname, logits, tau, least)
  if not nn.is_tensor(logits) or logits:dim() ~= 2 then
    fail(fname, "logits must be a 2-D tensor (batch, categories), got %s",
      nn.is_tensor(logits) and "shape " .. options.shape_str(logits)
        or type(logits) .. " (" .. tostring(logits) .. ")")
  end
  if type(tau) ~= "number" or not (tau > 0) or (least and tau < least) then
    fail(fname, "tau must be %s, not %s", least and ">= " .. least or "positive", tostring(tau))
  end
end

function A.straight_through(logits, tau)
  tau = tau or 1
  check_logits("straight_through", logits, tau)
  return st_fn(logits, tau)
end

function A.reinmax(logits, tau)
  tau = tau or 1
  check_logits("reinmax", logits, tau, 1)
  return reinmax_fn(logits, tau)
end

-- ---- modules ----

local function param_module(name, fname, pname, default, check)
  local cls = Module:extend(name)
  function cls:init(n, opts)
    n = options.whole(n or 1) or n
    if math.type(n) ~= "integer" or n < 1 then
      fail(name, "the number of parameters must be a positive integer, not %s", tostring(n))
    end
    opts = options.check("nn." .. name, opts, {"init"})
    local v = opts.init or default
    if check then check_positive(name, pname, v) end
    self[pname] = self:parameter(nn.full({n}, v))
  end
  function cls:forward(x) return A[fname](x, self[pname]) end
  function cls:extra_repr() return string.format("%d", self[pname]:numel()) end
  return cls
end

A.PReLU = param_module("PReLU", "prelu", "weight", 0.25)
A.SwishBeta = param_module("SwishBeta", "swish_beta", "beta", 1, true)
A.SnakeA = param_module("SnakeA", "snake_a", "a", 1, true)

A.SAU = Module:extend("SAU")
function A.SAU:init(n, opts)
  n = n or 1
  opts = options.check("nn.SAU", opts, {"alpha", "sigma"})
  check_positive("SAU", "sigma", opts.sigma or 1)
  self.alpha = self:parameter(nn.full({n}, opts.alpha or 0.01))
  self.sigma = self:parameter(nn.full({n}, opts.sigma or 1))
end
function A.SAU:forward(x) return A.sau(x, self.alpha, self.sigma) end

-- Pade (5, 4) fit of leaky ReLU (slope 0.01) on [-3, 3], max error 0.064: the default init
local RATIONAL_A = {0.063673, 0.505000, 0.989514, 0.807204, 0.274593, 0.035200}
local RATIONAL_B = {0, 1.598424, 0, 0.069703}

A.Rational = Module:extend("Rational")
function A.Rational:init(m, n)
  m, n = options.whole(m or 5) or m, options.whole(n or 4) or n
  for _, d in ipairs({{"numerator", m}, {"denominator", n}}) do
    if math.type(d[2]) ~= "integer" or d[2] < 0 then
      fail("Rational", "the %s degree must be a non-negative integer, not %s", d[1], tostring(d[2]))
    end
  end
  local a, b = nn.zeros(m + 1), nn.zeros(math.max(n, 1))
  for j = 1, m + 1 do a[j] = RATIONAL_A[j] or 0 end
  for k = 1, n do b[k] = RATIONAL_B[k] or 0 end
  if m == 5 and n == 4 then
    -- the fit above
  elseif m >= 1 then
    a:zero_(); a[2] = 1; b:zero_() -- the identity
  end
  self.numerator = self:parameter(a)
  self.denominator = self:parameter(b)
end
function A.Rational:forward(x) return A.rational(x, self.numerator, self.denominator) end

-- gated layers: y = g(x W + b) * (x V + c), W and V in one Linear of 2 * hidden outputs
local gated_names = {GLU = "glu", ReGLU = "reglu", GEGLU = "geglu", SwiGLU = "swiglu",
  Bilinear = "bilinear"}
for cls_name, fname in pairs(gated_names) do
  local cls = Module:extend(cls_name)
  function cls:init(nin, hidden, opts)
    for _, v in ipairs({{"in", nin}, {"hidden", hidden}}) do
      local n = options.whole(v[2])
      if not n or n < 1 then
        fail(cls_name, "%s must be a positive integer, got %s", v[1], tostring(v[2]))
      end
    end
    nin, hidden = options.whole(nin), options.whole(hidden)
    options.check("nn." .. cls_name, opts, {"bias"})
    self.proj = Linear(nin, 2 * hidden, opts)
    self.hidden = hidden
  end
  function cls:forward(x)
    -- the gate on the second half of the projection for GLU (F.glu's order), on the first
    -- for the others: which of the two is called W is a matter of naming
    return A[fname](self.proj(x))
  end
  A[cls_name] = cls
end

nn.document("Activations", {
  {"prelu", A.prelu, "nn.prelu(x, a) -> tensor",
    "x where x > 0, a x elsewhere, a learnable (a tensor of 1 or C values, C = dim 2); Delving "
      .. "Deep into Rectifiers (He et al. 2015). Module: nn.PReLU([C=1 [, {init=0.25}]])."},
  {"swish_beta", A.swish_beta, "nn.swish_beta(x, beta) -> tensor",
    "x sigmoid(beta x) with beta a tensor (learnable; 1 or C values); Searching for Activation "
      .. "Functions (Ramachandran et al. 2017). Module: nn.SwishBeta([C [, {init=1}]]), init > 0 "
      .. "(training may then move beta anywhere)."},
  {"snake_a", A.snake_a, "nn.snake_a(x, a) -> tensor",
    "x + sin^2(a x) / a with a a tensor (learnable frequency); Neural Networks Fail to Learn "
      .. "Periodic Functions and How to Fix It (Liu Ziyin et al. 2020). Module: nn.SnakeA."},
  {"sau", A.sau, "nn.sau(x [, alpha=0.01 [, sigma=1]]) -> tensor",
    "Leaky ReLU smoothed by a Gaussian: alpha x + (1-alpha)[x Phi(x/sigma) + sigma phi(x/sigma)]; "
      .. "SAU (Biswas et al. 2021). Module: nn.SAU([C [, {alpha, sigma}]]), sigma > 0."},
  {"rational", A.rational, "nn.rational(x, a, b) -> tensor",
    "Pade activation P(x) / (1 + |b_1 x + ... + b_n x^n|), P = a_0 + ... + a_m x^m; Adaptive "
      .. "Rational Activations (Delfosse et al. 2021). Module: nn.Rational([m=5 [, n=4]]), "
      .. "initialized to fit leaky ReLU."},
  {"relu_attention", A.relu_attention, "nn.relu_attention(scores [, dim=-1]) -> tensor",
    "relu(scores) / L with L the length of dim: softmax's replacement in Replacing softmax with "
      .. "ReLU in Vision Transformers (Wortsman et al. 2023)."},
  {"glu", A.glu, "nn.glu(x [, dim=-1]) -> tensor",
    "a * sigmoid(b), x = [a, b] split in halves along dim (PyTorch's F.glu); GLU Variants "
      .. "Improve Transformer (Shazeer 2020). Module: nn.GLU(in, hidden)."},
  {"reglu", A.reglu, "nn.reglu(x [, dim=-1]) -> tensor",
    "relu(a) * b, x = [a, b] halves along dim. Module: nn.ReGLU(in, hidden)."},
  {"geglu", A.geglu, "nn.geglu(x [, dim=-1]) -> tensor",
    "gelu(a) * b, x = [a, b] halves along dim. Module: nn.GEGLU(in, hidden)."},
  {"swiglu", A.swiglu, "nn.swiglu(x [, dim=-1]) -> tensor",
    "silu(a) * b, x = [a, b] halves along dim. Module: nn.SwiGLU(in, hidden)."},
  {"bilinear", A.bilinear, "nn.bilinear(x [, dim=-1]) -> tensor",
    "a * b, x = [a, b] halves along dim. Module: nn.Bilinear(in, hidden)."},
  {"straight_through", A.straight_through, "nn.straight_through(logits [, tau=1]) -> tensor",
    "A one-hot sample D ~ Cat(softmax(logits)) (batch, categories); backward as if the output "
      .. "were softmax(logits / tau) (Straight-Through; Bridging Discrete and Backpropagation, "
      .. "Liu et al. 2023)."},
  {"reinmax", A.reinmax, "nn.reinmax(logits [, tau=1]) -> tensor",
    "A one-hot sample as nn.straight_through; backward ReinMax's second-order estimate "
      .. "2 J(pi1) g - J(pi0) g / 2, pi1 = (softmax(logits/tau) + D) / 2, centered; tau >= 1."},
})
nn.document("Modules", {
  {"PReLU", A.PReLU, "nn.PReLU([C=1 [, {init=0.25}]])", "nn.prelu with its slope(s) `weight`."},
  {"SwishBeta", A.SwishBeta, "nn.SwishBeta([C=1 [, {init=1}]])", "nn.swish_beta, `beta` learnable."},
  {"SnakeA", A.SnakeA, "nn.SnakeA([C=1 [, {init=1}]])", "nn.snake_a, frequency `a` learnable."},
  {"SAU", A.SAU, "nn.SAU([C=1 [, {alpha=0.01, sigma=1}]])", "nn.sau, alpha and sigma learnable."},
  {"Rational", A.Rational, "nn.Rational([m=5 [, n=4]])",
    "nn.rational with learnable `numerator` (m+1) and `denominator` (n) coefficients."},
  {"GLU", A.GLU, "nn.GLU(in, hidden)", "(x W + b) * sigmoid(x V + c): two projections."},
  {"ReGLU", A.ReGLU, "nn.ReGLU(in, hidden)", "relu(x W + b) * (x V + c)."},
  {"GEGLU", A.GEGLU, "nn.GEGLU(in, hidden)", "gelu(x W + b) * (x V + c)."},
  {"SwiGLU", A.SwiGLU, "nn.SwiGLU(in, hidden)", "silu(x W + b) * (x V + c)."},
  {"Bilinear", A.Bilinear, "nn.Bilinear(in, hidden)", "(x W + b) * (x V + c)."},
})

return A
