-- stdlib/nn/conv.lua: convolutions, nn.conv2d and nn.conv1d (functions) and the Conv2d and
-- Conv1d modules.
--
-- The options (stride, padding, dilation: an integer or a pair; groups) are read and checked
-- here; the computing is one C call, nn._conv (nn/lua/lconv.c, nn/ops/conv.c), whose messages
-- name the caller. The modules hold PyTorch's parameters: weight (out, in/groups, kh, kw) or
-- (out, in/groups, k) and bias (out), initialized as its reset_parameters does, so that state
-- dicts move between the two.
local nn = require "nn"
local Module = require "nn.module"
local init = require "nn.initializers"
local options = require "nn.options"

local C = {}
local conv = nn._conv
local OPTS = {"stride", "padding", "dilation", "groups"}
local MAX_ATTR = 2147483647 -- stride, padding, dilation and kernel sizes fit 31 bits

local function fail(fname, fmt, ...)
  error(fname .. ": " .. string.format(fmt, ...), 0)
end

-- an integer or a pair of integers ({k} or k for conv1d) as two integers (h, w); conv1d's
-- value goes to w (h is 1 for stride and dilation, 0 for padding)
local function pair(fname, what, v, def, spatial)
  if v == nil then return def, def end
  local n, a, b = spatial == 2 and 2 or 1, nil, nil
  v = options.whole(v) or v -- 4 / 2 is 2.0: a whole number is an integer
  if type(v) == "table" then
    v = {options.whole(v[1]) or v[1], options.whole(v[n]) or v[n], n = #v}
  end
  if math.type(v) == "integer" then
    a, b = v, v
  elseif type(v) == "table" and v.n == n and math.type(v[1]) == "integer"
      and math.type(v[n]) == "integer" then
    a, b = v[1], v[n]
  else
    local got = tostring(v)
    if type(v) == "table" then
      local parts = {}
      for i = 1, v.n do parts[i] = tostring(v[i]) end
      got = "{" .. table.concat(parts, ",") .. "}"
    end
    fail(fname, "%s must be %s, got %s", what,
      n == 2 and "an integer or a pair {h, w} of integers" or "an integer", got)
  end
  if a > MAX_ATTR or b > MAX_ATTR then
    fail(fname, "%s %s is too large (at most %d)", what, a > MAX_ATTR and a or b, MAX_ATTR)
  end
  if spatial == 1 then return (what == "padding" and 0 or 1), b end
  return a, b
end

-- a kernel dilated past 2^62 (an expanded weight, a huge dilation) would overflow the
-- geometry's integers: refused here, with the sizes as the user gave them
local function check_extent(fname, w, a, spatial)
  if not nn.is_tensor(w) or w:dim() ~= spatial + 2 then return end
  for ax = 1, spatial do
    local k, d = w:size(2 + ax), a[4 + (spatial == 2 and ax or 2)]
    if (k - 1.0) * d + 1 > 2.0 ^ 62 then
      fail(fname, "kernel size %d with dilation %d spans more than 2^62 elements", k, d)
    end
  end
end

local function group_count(fname, g)
  if g == nil then return 1 end
  g = options.whole(g) or g
  if math.type(g) ~= "integer" then
    fail(fname, "groups must be a positive integer, got %s", tostring(g))
  end
  return g
end

-- the seven integers nn._conv takes after the tensors
local function attrs(fname, opts, spatial)
  local sh, sw = pair(fname, "stride", opts.stride, 1, spatial)
  local ph, pw = pair(fname, "padding", opts.padding, 0, spatial)
  local dh, dw = pair(fname, "dilation", opts.dilation, 1, spatial)
  return {sh, sw, ph, pw, dh, dw, group_count(fname, opts.groups)}
end

local function functional(fname, spatial)
  return function(x, w, b, opts)
    if type(b) == "table" and opts == nil then b, opts = nil, b end
    opts = options.check(fname, opts, OPTS)
    for i, t in ipairs({{"input", x}, {"weight", w}, {"bias", b or false}}) do
      if t[2] ~= false and not nn.is_tensor(t[2]) then
        fail(fname, "%s (argument %d) must be a tensor, got %s (%s)", t[1], i, type(t[2]),
          tostring(t[2]))
      end
    end
    local a = attrs(fname, opts, spatial)
    check_extent(fname, w, a, spatial)
    return conv(fname, spatial, x, w, b, table.unpack(a))
  end
end

C.conv2d = functional("nn.conv2d", 2)
C.conv1d = functional("nn.conv1d", 1)

-- ---- modules ----

local function check_count(fname, what, n)
  n = options.whole(n) or n
  if math.type(n) ~= "integer" or n < 1 then
    fail(fname, "%s must be a positive integer, got %s", what, tostring(n))
  end
  return n
end

-- Conv2d and Conv1d: one class body, spatial 2 or 1
local function module(name, spatial)
  local cls = Module:extend(name)
  local fname = "nn." .. name
  function cls:init(cin, cout, k, opts)
    cin = check_count(fname, "in channels", cin)
    cout = check_count(fname, "out channels", cout)
    opts = options.check(fname, opts, {"stride", "padding", "dilation", "groups", "bias"})
    local kh, kw = pair(fname, "kernel size", k, nil, spatial)
    if kh == nil then fail(fname, "kernel size is missing (the third argument)") end
    if kh < 1 or kw < 1 then
      fail(fname, "kernel size must be positive, got %s", spatial == 2 and
        string.format("{%d,%d}", kh, kw) or tostring(kw))
    end
    local a = attrs(fname, opts, spatial)
    local groups = a[7]
    for k, what in ipairs{"stride", "stride", "padding", "padding", "dilation", "dilation"} do
      local low = what == "padding" and 0 or 1
      if a[k] < low then
        fail(fname, "%s must be %s, got %s", what, low == 0 and "non-negative" or "positive",
          tostring(opts[what]))
      end
    end
    if groups < 1 or cin % groups ~= 0 or cout % groups ~= 0 then
      fail(fname, "groups %d must divide both in channels %d and out channels %d", groups, cin,
        cout)
    end
    self.in_channels, self.out_channels, self.groups = cin, cout, groups
    self.kernel_size = spatial == 2 and {kh, kw} or {kw}
    self.stride = spatial == 2 and {a[1], a[2]} or {a[2]}
    self.padding = spatial == 2 and {a[3], a[4]} or {a[4]}
    self.dilation = spatial == 2 and {a[5], a[6]} or {a[6]}
    self._attrs = a
    local shape = spatial == 2 and {cout, cin // groups, kh, kw} or {cout, cin // groups, kw}
    -- PyTorch's reset_parameters: kaiming_uniform_ with a = sqrt(5), i.e. uniform in
    -- +-1/sqrt(fan_in), fan_in = in/groups * kernel taps; the bias in the same bounds
    self.weight = self:parameter(init.kaiming_uniform_(nn.empty(shape), {a = math.sqrt(5)}))
    if opts.bias ~= nil and type(opts.bias) ~= "boolean" then
      fail(fname, "bias must be true or false, got %s (%s)", type(opts.bias), tostring(opts.bias))
    end
    if opts.bias ~= false then
      local bound = 1 / math.sqrt(cin // groups * kh * kw)
      self.bias = self:parameter(init.uniform_(nn.empty(cout), -bound, bound))
    end
  end
  function cls:forward(x)
    return conv(fname, spatial, x, self.weight, self.bias, table.unpack(self._attrs))
  end
  function cls:extra_repr()
    local function list(t) return #t == 1 and tostring(t[1]) or "{" .. table.concat(t, ",") .. "}" end
    local s = string.format("%d, %d, kernel_size=%s, stride=%s", self.in_channels,
      self.out_channels, list(self.kernel_size), list(self.stride))
    local p, d = self.padding, self.dilation
    if p[1] ~= 0 or (p[2] or 0) ~= 0 then s = s .. ", padding=" .. list(p) end
    if d[1] ~= 1 or (d[2] or 1) ~= 1 then s = s .. ", dilation=" .. list(d) end
    if self.groups ~= 1 then s = s .. ", groups=" .. self.groups end
    if self.bias == nil then s = s .. ", bias=false" end
    return s
  end
  return cls
end

C.Conv2d = module("Conv2d", 2)
C.Conv1d = module("Conv1d", 1)

nn.document("Convolutions", {
  {"conv2d", C.conv2d, "nn.conv2d(x, w [, b] [, {stride=1, padding=0, dilation=1, groups=1}]) "
    .. "-> tensor",
    "PyTorch's conv2d (a cross-correlation) of x (N, C, H, W) with w (out, C/groups, kh, kw) "
      .. "plus bias b (out): (N, out, H', W'); stride, padding and dilation are an integer or "
      .. "a pair {h, w}; im2col + GEMM in chunks of the batch."},
  {"conv1d", C.conv1d, "nn.conv1d(x, w [, b] [, {stride=1, padding=0, dilation=1, groups=1}]) "
    .. "-> tensor",
    "conv2d's kernels along one dim: x (N, C, L), w (out, C/groups, k), b (out): (N, out, L')."},
})
nn.document("Modules", {
  {"Conv2d", C.Conv2d, "nn.Conv2d(in, out, k [, {stride=1, padding=0, dilation=1, groups=1, "
    .. "bias=true}])",
    "nn.conv2d with weight (out, in/groups, kh, kw) and bias (out), PyTorch's names, layout "
      .. "and init (uniform in +-1/sqrt(in/groups kh kw)); k and the options an integer or "
      .. "a pair {h, w}."},
  {"Conv1d", C.Conv1d, "nn.Conv1d(in, out, k [, {stride=1, padding=0, dilation=1, groups=1, "
    .. "bias=true}])",
    "nn.conv1d with weight (out, in/groups, k) and bias (out), as PyTorch's Conv1d."},
})

return C
