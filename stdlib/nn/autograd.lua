-- stdlib/nn/autograd.lua: nn.gradcheck, gradients checked against finite differences.
--
-- The check runs in f64. Rather than the whole Jacobian (one backward per output element) it
-- checks the gradient of s = sum_k <w_k, out_k> for fixed random weights w_k: every output
-- element counts, with a different weight, and one backward gives the analytic gradient. The
-- numeric one perturbs each input element by +-eps: (s(x + eps) - s(x - eps)) / (2 eps).
local nn = require "nn"

local A = {}

local function fail(fmt, ...)
  error("nn.gradcheck: " .. string.format(fmt, ...), 0)
end

local function is_float(t)
  local d = t:dtype()
  return d == "f32" or d == "f64"
end

-- the inputs as a list; which of them to check (float ones; only those with requires_grad
-- when some have it)
local function prepare(inputs)
  if nn.is_tensor(inputs) then inputs = {inputs} end
  if type(inputs) ~= "table" then
    fail("inputs must be a tensor or a list, got %s (%s)", type(inputs), tostring(inputs))
  end
  local marked = false
  for _, x in ipairs(inputs) do
    if nn.is_tensor(x) and is_float(x) and x.requires_grad then marked = true end
  end
  local list, checked = {}, {}
  for i, x in ipairs(inputs) do
    if nn.is_tensor(x) and is_float(x) then
      list[i] = x:detach():double():contiguous():clone()
      checked[i] = not marked or x.requires_grad
    else
      list[i] = x
    end
  end
  if not next(checked) then fail("no float input to check") end
  return list, checked, #inputs
end

local function outputs_of(fn, args, n)
  local out = table.pack(fn(table.unpack(args, 1, n)))
  if out.n == 1 and type(out[1]) == "table" and not nn.is_tensor(out[1]) then
    out = table.pack(table.unpack(out[1]))
  end
  local list = {}
  for i = 1, out.n do
    if nn.is_tensor(out[i]) and is_float(out[i]) then list[#list + 1] = out[i] end
  end
  if #list == 0 then fail("the function returned no float tensor") end
  return list
end

-- s = sum_k <w_k, out_k> (weights made on the first call)
local function projection(fn, args, n, weights)
  local s = 0
  for k, out in ipairs(outputs_of(fn, args, n)) do
    weights[k] = weights[k] or nn.randn(out:shape()):double()
    s = s + (out:double() * weights[k]):sum()
  end
  return s
end

-- "{2,3}": the 1-based index of flat element i (1-based) in shape
local function index_str(shape, i)
  local idx, rest = {}, i - 1
  for d = #shape, 1, -1 do
    idx[d] = rest % shape[d] + 1
    rest = rest // shape[d]
  end
  return "{" .. table.concat(idx, ",") .. "}"
end

local function analytic(fn, args, checked, n, weights)
  local leaves, order = {}, {}
  for i = 1, n do
    if checked[i] then
      leaves[i] = args[i]:clone():requires_grad_(true)
      order[#order + 1] = i
    else
      leaves[i] = args[i]
    end
  end
  local s = nn.enable_grad(projection, fn, leaves, n, weights)
  local inputs = {}
  for j, i in ipairs(order) do inputs[j] = leaves[i] end
  local grads = nn.grad(s, inputs)
  local by_input = {}
  for j, i in ipairs(order) do by_input[i] = grads[j]:double():contiguous():view(-1) end
  return by_input
end

local function numeric(fn, args, n, weights, i, k, eps)
  local flat = args[i]:view(-1)
  local x0 = flat[k]
  flat[k] = x0 + eps
  local plus = nn.no_grad(projection, fn, args, n, weights):item()
  flat[k] = x0 - eps
  local minus = nn.no_grad(projection, fn, args, n, weights):item()
  flat[k] = x0
  return (plus - minus) / (2 * eps)
end

function A.gradcheck(fn, inputs, opts)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    fail("the first argument must be a function, got %s (%s)", type(fn), tostring(fn))
  end
  opts = require("nn.options").check("nn.gradcheck", opts, {"eps", "atol", "rtol"})
  for _, k in ipairs({"eps", "atol", "rtol"}) do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or not (v >= 0) or (k == "eps" and v == 0)) then
      fail("%s must be a number %s, got %s (%s)", k, k == "eps" and "> 0" or ">= 0", type(v),
        tostring(v))
    end
  end
  local eps, atol, rtol = opts.eps or 1e-6, opts.atol or 1e-5, opts.rtol or 1e-3
  local args, checked, n = prepare(inputs)
  local weights = {}
  nn.no_grad(projection, fn, args, n, weights) -- fixes the weights
  local grads = analytic(fn, args, checked, n, weights)
  local count, worst = 0, 0
  for i = 1, n do
    if checked[i] then
      local g = grads[i]
      for k = 1, args[i]:numel() do
        local a, num = g[k], numeric(fn, args, n, weights, i, k, eps)
        local err = math.abs(a - num)
        worst, count = math.max(worst, err), count + 1
        if not (err <= atol + rtol * math.abs(num)) then
          return false, string.format("gradcheck: input %d element %s: analytic %.10g vs numeric "
            .. "%.10g (error %.3g > atol %g + rtol %g * |numeric|)", i,
            index_str(args[i]:shape(), k), a, num, err, atol, rtol)
        end
      end
    end
  end
  return true, string.format("gradcheck: ok, %d elements, largest error %.3g", count, worst)
end

nn.document("Autograd", {
  {"gradcheck", A.gradcheck, "nn.gradcheck(fn, inputs [, {eps=1e-6, atol=1e-5, rtol=1e-3}])",
    "Compares fn's gradients (nn.grad) with central differences in f64 -> ok, report."},
})

return A
