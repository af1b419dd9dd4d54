-- scripts/demo.lua: what `make run` shows a newcomer; a tour of the tensor API.
-- (Once the live view lands, this trains a network with the view open.)
local nn = require "nn"

local function section(title) print(("\n-- %s "):format(title) .. ("-"):rep(60 - #title)) end

section "tensors"
local x = nn.tensor{{1, 2, 3}, {4, 5, 6}}
print(x)
print("shape", table.concat(x:shape(), "x"), "dtype", x:dtype(), "x[2][3] =", x[2][3])

section "broadcasting arithmetic"
print(x * 10 + nn.tensor{1, 2, 3})

section "reductions (1-based dims and indices)"
print("sum over dim 1:", x:sum(1))
local values, indices = x:max(2)
print("max over dim 2:", values, "at", indices)

section "linear algebra (OpenBLAS)"
nn.manual_seed(1)
local w = nn.randn(3, 2)
print(x:matmul(w))

section "views share memory"
local t = x:t()
t[1][1] = 100
print("after t[1][1] = 100, x[1][1] is", x[1][1]:item())

section "a big tensor prints in a few lines"
print(nn.rand(1000, 1000))

print("\nType `build/relua` for the REPL; help(nn.zeros) documents any function.")
