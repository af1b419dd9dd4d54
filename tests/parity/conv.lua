-- tests/parity/conv.lua: nn.Conv2d and nn.Conv1d against PyTorch's on the cases of conv.py
-- (fixed and random shapes, strides, paddings, dilations, groups; f64 and f32). The weights
-- are PyTorch's: conv.py --save writes its state dicts, inputs and attributes as safetensors,
-- loaded here into relua's modules with load_state_dict (strict); then the outputs and the
-- gradients of input, weight and bias are printed as conv.py prints them.
local nn = require "nn"

local path = os.tmpname()
assert(os.execute("/usr/bin/python3 tests/parity/conv.py --save " .. path), "conv.py --save failed")
local file = nn.load(path)
os.remove(path)

local function line(name, t)
  local v = t:double():contiguous():view(-1)
  local parts = {}
  for i = 1, v:size(1) do parts[i] = string.format("%.12g", v[i]) end
  print(name .. " " .. table.concat(parts, " "))
end

local cases = {}
for name in pairs(file) do
  local case = name:match("^(.*)%.attrs$")
  if case then cases[#cases + 1] = case end
end
table.sort(cases, function(a, b) return tonumber(a:match("%d+")) < tonumber(b:match("%d+")) end)

for _, case in ipairs(cases) do
  local function get(name) return file[case .. "." .. name] end
  local a = get("attrs"):totable()
  local spatial, groups, bias = a[1], a[10], a[11] == 1
  local m
  if spatial == 2 then
    m = nn.Conv2d(get("x"):size(2), get("weight"):size(1), {a[2], a[3]},
      {stride = {a[4], a[5]}, padding = {a[6], a[7]}, dilation = {a[8], a[9]}, groups = groups,
        bias = bias})
  else
    m = nn.Conv1d(get("x"):size(2), get("weight"):size(1), a[3],
      {stride = a[5], padding = a[7], dilation = a[9], groups = groups, bias = bias})
  end
  m:to(get("x"):dtype())
  local sd = {weight = get("weight"), bias = get("bias")}
  m:load_state_dict(sd, true)
  local x = get("x"):clone()
  x.requires_grad = true
  local y = m(x)
  local loss = (y * get("wy")):sum()
  loss:backward()
  line(case .. ".y", y)
  line(case .. ".grad.x", x.grad)
  for name, p in m:named_parameters() do line(case .. ".grad." .. name, p.grad) end
end
