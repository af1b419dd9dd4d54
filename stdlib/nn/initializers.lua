-- stdlib/nn/initializers.lua: nn.init, weight initialization in place.
--
-- The formulas are torch.nn.init's (fans, gains, bounds), the numbers come from relua's one
-- generator, so nn.manual_seed makes them reproducible. Each function fills t under no_grad
-- (t may be a parameter) and returns t.
local nn = require "nn"

local init = {}

local function fail(fname, fmt, ...)
  error("nn.init." .. fname .. ": " .. string.format(fmt, ...), 0)
end

local function check_float(fname, t)
  if not nn.is_tensor(t) then fail(fname, "expected a tensor, got %s", type(t)) end
  local d = t:dtype()
  if d ~= "f32" and d ~= "f64" then fail(fname, "expected an f32 or f64 tensor, got %s", d) end
end

-- fan_in = size(2) * receptive field, fan_out = size(1) * receptive field
function init.calculate_fan_in_and_fan_out(t, fname)
  if t:dim() < 2 then
    fail(fname or "calculate_fan_in_and_fan_out",
      "fans need a tensor of 2 or more dims, got shape {%s}", table.concat(t:shape(), ","))
  end
  local receptive = 1
  for d = 3, t:dim() do receptive = receptive * t:size(d) end
  return t:size(2) * receptive, t:size(1) * receptive
end

local gains = {
  linear = 1, identity = 1, sigmoid = 1, conv1d = 1, conv2d = 1, conv3d = 1,
  tanh = 5 / 3, relu = math.sqrt(2), selu = 3 / 4,
}

function init.calculate_gain(nonlinearity, param)
  if nonlinearity == "leaky_relu" then
    local slope = param or 0.01
    return math.sqrt(2 / (1 + slope * slope))
  end
  local g = gains[nonlinearity]
  if not g then fail("calculate_gain", "unknown nonlinearity '%s'", tostring(nonlinearity)) end
  return g
end

local function fill(fname, t, how, ...)
  check_float(fname, t)
  local args = table.pack(...)
  nn.no_grad(function() t[how](t, table.unpack(args, 1, args.n)) end)
  return t
end

local function check_numbers(fname, ...)
  for i, v in ipairs({...}) do
    if type(v) ~= "number" then
      fail(fname, "argument %d must be a number, got %s (%s)", i + 1, type(v), tostring(v))
    end
  end
end

function init.uniform_(t, a, b)
  a, b = a or 0, b or 1
  check_numbers("uniform_", a, b)
  if not (a <= b) then
    fail("uniform_", "the range [%s, %s] is empty (a > b)", tostring(a), tostring(b))
  end
  return fill("uniform_", t, "uniform_", a, b)
end

function init.normal_(t, mean, std)
  mean, std = mean or 0, std or 1
  check_numbers("normal_", mean, std)
  if not (std >= 0) then fail("normal_", "std must be >= 0, got %s", tostring(std)) end
  return fill("normal_", t, "normal_", mean, std)
end

function init.constant_(t, v)
  check_numbers("constant_", v)
  return fill("constant_", t, "fill_", v)
end

function init.zeros_(t)
  return fill("zeros_", t, "fill_", 0)
end

function init.ones_(t)
  return fill("ones_", t, "fill_", 1)
end

-- the standard deviation of kaiming init: gain / sqrt(fan)
local function kaiming_std(fname, t, opts)
  opts = opts or {}
  local mode = opts.mode or "fan_in"
  if mode ~= "fan_in" and mode ~= "fan_out" then
    fail(fname, "mode must be \"fan_in\" or \"fan_out\", not %s", tostring(mode))
  end
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t, fname)
  local fan = mode == "fan_in" and fan_in or fan_out
  local gain = init.calculate_gain(opts.nonlinearity or "leaky_relu", opts.a or 0)
  return fan > 0 and gain / math.sqrt(fan) or 0
end

-- the standard deviation of xavier init: gain * sqrt(2 / (fan_in + fan_out))
local function xavier_std(fname, t, opts)
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t, fname)
  local gain = opts and opts.gain or 1
  return gain * math.sqrt(2 / (fan_in + fan_out))
end

-- fills t with numbers of standard deviation std: uniform in [-b, b] with b = sqrt(3) std,
-- or normal
local function uniform_with_std(t, std)
  local bound = math.sqrt(3) * std
  return init.uniform_(t, -bound, bound)
end

local function normal_with_std(t, std)
  return init.normal_(t, 0, std)
end

-- init.<fname>(t, opts): t filled by fill(t, std_of(fname, t, opts))
local function scaled(fname, std_of, fill)
  return function(t, opts)
    check_float(fname, t)
    return fill(t, std_of(fname, t, opts))
  end
end

init.kaiming_uniform_ = scaled("kaiming_uniform_", kaiming_std, uniform_with_std)
init.kaiming_normal_ = scaled("kaiming_normal_", kaiming_std, normal_with_std)
init.xavier_uniform_ = scaled("xavier_uniform_", xavier_std, uniform_with_std)
init.xavier_normal_ = scaled("xavier_normal_", xavier_std, normal_with_std)

-- orthonormal columns of a (m x n, m >= n), by Gram-Schmidt orthogonalized twice (the second
-- pass repairs the orthogonality the first loses to rounding); the same Q as a QR whose R has
-- a positive diagonal, which is what torch's orthogonal_ makes of its QR
local function orthonormal_columns(a)
  local n = a:size(2)
  local q = nn.zeros(a:shape(), "f64")
  for j = 1, n do
    local v = a:narrow(2, j, 1)
    if j > 1 then
      local done = q:narrow(2, 1, j - 1)
      for _ = 1, 2 do v = v - done:matmul(done:t():matmul(v)) end
    end
    q:narrow(2, j, 1):copy_(v / v:norm())
  end
  return q
end

function init.orthogonal_(t, opts)
  check_float("orthogonal_", t)
  if t:dim() < 2 then fail("orthogonal_", "needs a tensor of 2 or more dims, got %d", t:dim()) end
  local rows = t:size(1)
  local cols = t:numel() // rows
  local gain = opts and opts.gain or 1
  nn.no_grad(function()
    local a = nn.randn(rows, cols):double()
    if rows < cols then a = a:t():contiguous() end
    local q = orthonormal_columns(a)
    if rows < cols then q = q:t() end
    t:copy_((q * gain):reshape(t:shape()))
  end)
  return t
end

nn.document("Initialization", {
  {"init.kaiming_uniform_", init.kaiming_uniform_,
    "nn.init.kaiming_uniform_(t [, {a=0, mode=\"fan_in\", nonlinearity=\"leaky_relu\"}]) -> t",
    "Uniform in [-b, b], b = gain * sqrt(3 / fan) (He et al. 2015), in place."},
  {"init.kaiming_normal_", init.kaiming_normal_,
    "nn.init.kaiming_normal_(t [, {a, mode, nonlinearity}]) -> t",
    "Normal with std gain / sqrt(fan), in place."},
  {"init.xavier_uniform_", init.xavier_uniform_, "nn.init.xavier_uniform_(t [, {gain=1}]) -> t",
    "Uniform in [-b, b], b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010)."},
  {"init.xavier_normal_", init.xavier_normal_, "nn.init.xavier_normal_(t [, {gain=1}]) -> t",
    "Normal with std gain * sqrt(2 / (fan_in + fan_out))."},
  {"init.orthogonal_", init.orthogonal_, "nn.init.orthogonal_(t [, {gain=1}]) -> t",
    "A random (semi-)orthogonal matrix times gain (Saxe et al. 2013); t is flattened to 2-D."},
  {"init.uniform_", init.uniform_, "nn.init.uniform_(t [, a=0, b=1]) -> t",
    "Uniform random numbers in [a, b)."},
  {"init.normal_", init.normal_, "nn.init.normal_(t [, mean=0, std=1]) -> t",
    "Normal random numbers."},
  {"init.constant_", init.constant_, "nn.init.constant_(t, v) -> t", "Fills t with v."},
  {"init.zeros_", init.zeros_, "nn.init.zeros_(t) -> t", "Fills t with zeros."},
  {"init.ones_", init.ones_, "nn.init.ones_(t) -> t", "Fills t with ones."},
  {"init.calculate_gain", init.calculate_gain, "nn.init.calculate_gain(nonlinearity [, param])",
    "The recommended gain: relu sqrt(2), tanh 5/3, leaky_relu sqrt(2 / (1 + slope^2)), ..."},
})

return init
