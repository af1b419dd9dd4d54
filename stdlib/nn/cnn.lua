-- stdlib/nn/cnn.lua: the layers of convolutional nets around the convolutions: pooling
-- (MaxPool2d, AvgPool2d, AdaptiveAvgPool2d) and BatchNorm2d.
--
-- Each checks its arguments when made and its input when called, naming itself and the
-- shapes, then calls the C function (nn.max_pool2d, nn.avg_pool2d, nn.adaptive_avg_pool2d,
-- nn.batch_norm); BatchNorm2d is BatchNorm1d with a 4-D input, its state dict PyTorch's
-- (weight, bias, running_mean, running_var, num_batches_tracked).
local nn = require "nn"
local layers = require "nn.layers"
local Module = require "nn.module"
local options = require "nn.options"

local L = {}

local fail = options.fail

local shape_str = options.shape_str

-- an integer or a pair {rows, cols}, as a pair; lo is the least value allowed
local function pair(fname, what, v, lo)
  local p = type(v) == "table" and {v[1], v[2]} or {v, v}
  local ok = (type(v) ~= "table" or #v == 2)
  for i = 1, 2 do ok = ok and math.type(p[i]) == "integer" and p[i] >= lo end
  if not ok then
    fail(fname, "%s must be an integer >= %d or a pair of them {rows, cols}, got %s", what, lo,
      type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or tostring(v))
  end
  return p
end

local function pair_str(p) return "{" .. p[1] .. "," .. p[2] .. "}" end

-- ---- pooling windows: MaxPool2d and AvgPool2d share the arguments and the checks ----

local Pool = Module:extend("Pool2d")

-- (k [, stride [, padding]]) or (k, {stride, padding, ceil_mode [, count_include_pad]})
function Pool:init(k, stride, padding)
  local name, known = self.__name, {"stride", "padding", "ceil_mode"}
  if self.__name == "AvgPool2d" then known[#known + 1] = "count_include_pad" end
  local opts = {}
  if type(stride) == "table" and stride[1] == nil then
    opts = options.check("nn." .. name, stride, known)
    stride, padding = opts.stride, opts.padding
  end
  self.kernel_size = pair(name, "kernel size", k, 1)
  self.stride = stride == nil and self.kernel_size or pair(name, "stride", stride, 1)
  self.padding = pair(name, "padding", padding or 0, 0)
  for i = 1, 2 do
    if 2 * self.padding[i] > self.kernel_size[i] then
      fail(name, "padding %s must be at most half the kernel size %s", pair_str(self.padding),
        pair_str(self.kernel_size))
    end
  end
  self.ceil_mode = opts.ceil_mode == true
  if name == "AvgPool2d" then self.count_include_pad = opts.count_include_pad ~= false end
end

-- x is (N, C, H, W) or (C, H, W), and its padded planes hold a window
function Pool:check(x)
  if x:dim() ~= 4 and x:dim() ~= 3 then
    fail(self.__name, "input must be (N, C, H, W) or (C, H, W), got shape %s", shape_str(x))
  end
  local h, w = x:size(-2), x:size(-1)
  local k, p = self.kernel_size, self.padding
  if h + 2 * p[1] < k[1] or w + 2 * p[2] < k[2] then
    fail(self.__name, "kernel %s is larger than the padded input %dx%d (input shape %s, "
      .. "padding %s)", pair_str(k), h + 2 * p[1], w + 2 * p[2], shape_str(x), pair_str(p))
  end
end

function Pool:extra_repr()
  local s = string.format("kernel_size=%s, stride=%s, padding=%s", pair_str(self.kernel_size),
    pair_str(self.stride), pair_str(self.padding))
  if self.ceil_mode then s = s .. ", ceil_mode=true" end
  if self.count_include_pad == false then s = s .. ", count_include_pad=false" end
  return s
end

L.MaxPool2d = Pool:extend("MaxPool2d")

function L.MaxPool2d:forward(x)
  self:check(x)
  return nn.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)
end

L.AvgPool2d = Pool:extend("AvgPool2d")

function L.AvgPool2d:forward(x)
  self:check(x)
  return nn.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
    self.count_include_pad)
end

L.AdaptiveAvgPool2d = Module:extend("AdaptiveAvgPool2d")

function L.AdaptiveAvgPool2d:init(size)
  self.output_size = pair("AdaptiveAvgPool2d", "output size", size, 1)
end

function L.AdaptiveAvgPool2d:forward(x)
  if x:dim() ~= 4 and x:dim() ~= 3 then
    fail("AdaptiveAvgPool2d", "input must be (N, C, H, W) or (C, H, W), got shape %s",
      shape_str(x))
  end
  return nn.adaptive_avg_pool2d(x, self.output_size)
end

function L.AdaptiveAvgPool2d:extra_repr() return "output_size=" .. pair_str(self.output_size) end

-- ---- BatchNorm2d ----

L.BatchNorm2d = layers.BatchNorm1d:extend("BatchNorm2d")

function L.BatchNorm2d:forward(x)
  if x:dim() ~= 4 then
    fail("BatchNorm2d", "input must be 4-D (N, C, H, W), got shape %s", shape_str(x))
  end
  return self:normalize(x)
end

nn.document("Modules", {
  {"MaxPool2d", L.MaxPool2d, "nn.MaxPool2d(k [, stride=k [, padding=0]]) or "
    .. "nn.MaxPool2d(k, {stride, padding, ceil_mode})",
    "The maximum of each k x k window (k an integer or {rows, cols}) of (N, C, H, W) input; "
      .. "the gradient goes to the window's arg-max."},
  {"AvgPool2d", L.AvgPool2d, "nn.AvgPool2d(k [, stride=k [, padding=0]]) or "
    .. "nn.AvgPool2d(k, {stride, padding, ceil_mode, count_include_pad=true})",
    "The mean of each k x k window of (N, C, H, W) input."},
  {"AdaptiveAvgPool2d", L.AdaptiveAvgPool2d, "nn.AdaptiveAvgPool2d(size)",
    "Averages (N, C, H, W) input down to size x size (or {rows, cols}) whatever H and W; "
      .. "AdaptiveAvgPool2d(1) is global average pooling."},
  {"BatchNorm2d", L.BatchNorm2d, "nn.BatchNorm2d(c [, {eps=1e-5, momentum=0.1, affine=true}])",
    "Normalizes each of c channels of (N, C, H, W) input over N, H and W; keeps running mean "
      .. "and variance for eval (momentum=false: cumulative averages). PyTorch's state dict."},
})

return L
