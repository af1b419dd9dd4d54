-- tests/parity/losses.lua: class weights in cross_entropy and nll_loss, Embedding's
-- padding_idx and BatchNorm1d on (N, C, L), values and gradients, against losses.py.
local nn = require "nn"

local function input(seed, ...)
  local n = 1
  for _, s in ipairs{...} do n = n * s end
  return ((nn.range(0, n - 1):double() * 0.37 + seed):sin()):view(...)
end

local function emit(name, t)
  local flat = t:contiguous():double():view(-1):totable()
  local out = {}
  for i, v in ipairs(flat) do out[i] = ("%.10g"):format(v) end
  print(name .. " " .. table.concat(out, " "))
end

local target = nn.tensor({1, 3, 2, 3, 4, 1}, "i64")
local weight = nn.tensor({0.5, 2, 1, 3}, "f64")
local cases = {
  {"ce_w_mean", nn.cross_entropy, {weight = weight}},
  {"ce_w_sum", nn.cross_entropy, {weight = weight, reduction = "sum"}},
  {"ce_w_none", nn.cross_entropy, {weight = weight, reduction = "none"}},
  {"ce_w_smooth", nn.cross_entropy, {weight = weight, label_smoothing = 0.2}},
  {"ce_w_ignore", nn.cross_entropy, {weight = weight, ignore_index = 3}},
  {"nll_w_mean", nn.nll_loss, {weight = weight}},
  {"nll_w_ignore", nn.nll_loss, {weight = weight, ignore_index = 1, reduction = "sum"}},
}
for _, c in ipairs(cases) do
  local x = input(1, 6, 4):requires_grad_()
  local loss = c[2](x, target, c[3])
  emit(c[1], loss)
  loss:sum():backward()
  emit(c[1] .. "_grad", x.grad)
end

local emb = nn.Embedding(5, 3, {padding_idx = 2}):double()
nn.no_grad(function() emb.weight:copy_(input(2, 5, 3)) end)
local idx = nn.tensor({{1, 2, 4}, {2, 5, 2}}, "i64")
local y = emb(idx)
emit("embedding_pad", y)
local s = (y * input(3, 2, 3, 3)):sum()
s:backward()
emit("embedding_pad_grad", emb.weight.grad)

local bn = nn.BatchNorm1d(3):double()
local x = input(4, 4, 3, 5):requires_grad_()
local out = bn(x)
emit("bn1d_ncl", out)
local so = (out * input(5, 4, 3, 5)):sum()
so:backward()
emit("bn1d_ncl_grad", x.grad)
emit("bn1d_ncl_running_mean", bn.running_mean)
emit("bn1d_ncl_running_var", bn.running_var)
bn:eval()
emit("bn1d_ncl_eval", bn(input(6, 2, 3, 5)))
