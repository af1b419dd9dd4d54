-- tests/parity/ops.lua: tensor ops in relua, printed as "name v1 v2 ..." lines, to compare
-- with the same cases in PyTorch (ops.py). Inputs come from one formula on both sides:
-- sin(0.37 * i + seed) over the flattened index i, so no file or RNG is shared.
local nn = require "nn"

local function input(seed, ...)
  local n = 1
  for _, s in ipairs{...} do n = n * s end
  return ((nn.range(0, n - 1):double() * 0.37 + seed):sin()):view(...)
end

local function emit(name, t)
  if type(t) == "number" then t = nn.tensor(t) end
  local flat = t:contiguous():double():view(-1):totable()
  local out = {}
  for i, v in ipairs(flat) do out[i] = ("%.10g"):format(v) end
  print(name .. " " .. table.concat(out, " "))
end

local a, b = input(1, 3, 4), input(2, 4)
local c, d = input(3, 2, 1, 4), input(4, 3, 1)

-- broadcasting arithmetic
emit("add_row", a + b)
emit("sub_col", a - d)
emit("mul_3d", c * a)
emit("div", a / (b:abs() + 1))
emit("pow", a:abs() ^ b)
emit("scalar_left", 2 - a * 3)
emit("maximum", a:maximum(d))
emit("where", nn.where(a:gt(0), a, b))
-- unary math
for _, f in ipairs{"exp", "tanh", "sigmoid", "relu", "abs", "floor", "sin"} do emit(f, a[f](a)) end
-- f32 has its own exp, sigmoid and tanh (vectorized): over [-20, 20] they agree with
-- PyTorch's f32 within the tolerance
local wide = a:float() * 20
for _, f in ipairs{"exp", "tanh", "sigmoid"} do emit(f .. "_f32", wide[f](wide)) end
emit("log_f32", (wide:abs() + 0.01):log())
emit("log", (a:abs() + 0.5):log())
emit("clamp", a:clamp(-0.3, 0.4))
-- reductions over all and over each dim, keepdim
emit("sum", a:sum())
emit("sum_d1", a:sum(1))
emit("sum_d2_keep", a:sum(2, true))
emit("mean_d1", a:mean(1))
emit("prod_d2", a:prod(2))
emit("var", a:var())
emit("std_d1", a:std(1))
emit("norm", a:norm())
emit("logsumexp_d2", (a * 100):logsumexp(2))
local mx, imx = a:max(2)
emit("max_d2", mx)
emit("argmax_d2", imx - 1) -- relua is 1-based
emit("min_all", a:min())
emit("argmin_d1", a:argmin(1) - 1)
emit("sum_transposed", a:t():sum(2))
-- indexing
local idx = nn.tensor({{1, 3, 2, 1}, {3, 3, 1, 2}}, "i64")
emit("gather", a:gather(1, idx))
emit("index_select", a:index_select(2, nn.tensor({4, 1, 2}, "i64")))
emit("index_add", a:clone():index_add_(1, nn.tensor({3, 1}, "i64"), input(5, 2, 4)))
emit("masked_fill", a:masked_fill(a:lt(0), 9))
emit("narrow_select", a:narrow(2, 2, 2):select(1, 3))
emit("cat", nn.cat({a, input(6, 2, 4)}, 1))
emit("stack", nn.stack({b, b * 2}, 2))
emit("one_hot", nn.one_hot(nn.tensor({3, 1, 2}, "i64"), 4))
emit("permute", c:permute(3, 1, 2))
emit("expand", d:expand(3, 5))
-- matmul
local m1, m2 = input(7, 3, 5), input(8, 5, 2)
emit("mm", m1:mm(m2))
emit("matmul_batched", nn.matmul(input(9, 4, 3, 5), m2))
emit("matmul_broadcast", nn.matmul(input(10, 2, 1, 3, 5), input(11, 4, 5, 2)))
emit("matmul_vec", nn.matmul(m1, input(12, 5)))
emit("dot", nn.matmul(input(13, 5), input(14, 5)))
emit("mm_transposed", m1:t():mm(input(15, 3, 4)))
emit("outer", nn.outer(b, input(16, 3)))
