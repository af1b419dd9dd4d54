-- tests/parity/cnn.lua: nn.max_pool2d, nn.avg_pool2d, nn.adaptive_avg_pool2d and
-- nn.BatchNorm2d (training, then evaluation) against PyTorch's on random shapes and window
-- settings, f64 and f32. cnn.py --save writes the inputs and settings; the outputs and the
-- gradients of sum(y * wy) are printed as cnn.py prints them.
local nn = require "nn"

local path = os.tmpname()
assert(os.execute("/usr/bin/python3 tests/parity/cnn.py --save " .. path), "cnn.py --save failed")
local file = nn.load(path)
os.remove(path)

local function line(name, t)
  local v = t:double():contiguous():view(-1)
  local parts = {}
  for i = 1, v:size(1) do parts[i] = string.format("%.12g", v[i]) end
  print(name .. " " .. table.concat(parts, " "))
end

-- the cases, in cnn.py's order: names "kindN:dtype"
local cases = {}
for name in pairs(file) do
  local case = name:match("^(.-)%.attrs$")
  if case then cases[#cases + 1] = case end
end
table.sort(cases)

for _, case in ipairs(cases) do
  local function get(k) return file[case .. "." .. k] end
  local kind, a = case:match("^(%a+)"), get("attrs"):totable()
  local x = get("x"):clone()
  x.requires_grad = true
  local y, bn
  if kind == "max" then
    y = nn.max_pool2d(x, {a[1], a[2]}, {a[3], a[4]}, {a[5], a[6]}, a[7] == 1)
  elseif kind == "avg" then
    y = nn.avg_pool2d(x, {a[1], a[2]}, {stride = {a[3], a[4]}, padding = {a[5], a[6]},
      ceil_mode = a[7] == 1, count_include_pad = a[8] == 1})
  elseif kind == "adaptive" then
    y = nn.AdaptiveAvgPool2d({a[1], a[2]})(x)
  else
    bn = nn.BatchNorm2d(x:size(2)):to(x:dtype())
    bn:load_state_dict({weight = get("w"), bias = get("b"), running_mean = get("rm"),
      running_var = get("rv")}, false)
    y = bn(x)
  end
  line(case .. ".y", y)
  if bn then
    line(case .. ".running_mean", bn.running_mean)
    line(case .. ".running_var", bn.running_var)
    line(case .. ".num_batches_tracked", bn.num_batches_tracked)
    bn:eval()
    line(case .. ".eval", nn.no_grad(function() return bn(get("x") * 0.5) end))
  end
  ;(y * get("wy")):sum():backward()
  line(case .. ".grad.x", x.grad)
  if bn then
    line(case .. ".grad.weight", bn.weight.grad)
    line(case .. ".grad.bias", bn.bias.grad)
  end
end
