-- tests/parity/optim.lua: a small MLP trained 20 steps by each optimizer from the same
-- initial weights and data as optim.py (PyTorch); the parameters are printed after training.
-- Weights and data come from one formula on both sides (no shared RNG), in f64.
local nn = require "nn"

local function values(seed, ...)
  local n = 1
  for _, s in ipairs{...} do n = n * s end
  return ((nn.range(0, n - 1):double() * 0.37 + seed):sin() * 0.5):view(...)
end

local function model()
  local m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)):double()
  nn.no_grad(function()
    for i, p in ipairs(m:parameters()) do p:copy_(values(i, table.unpack(p:shape()))) end
  end)
  return m
end

local x, y = values(10, 16, 4), nn.tensor({1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1}, "i64")

local optimizers = {
  sgd = function(p) return nn.optim.SGD(p, {lr = 0.1}) end,
  sgd_momentum = function(p)
    return nn.optim.SGD(p, {lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 1e-2})
  end,
  adam = function(p) return nn.optim.Adam(p, {lr = 1e-2, weight_decay = 1e-3}) end,
  adamw = function(p) return nn.optim.AdamW(p, {lr = 1e-2, weight_decay = 0.1}) end,
  adam_amsgrad = function(p) return nn.optim.Adam(p, {lr = 1e-2, amsgrad = true}) end,
  adamw_amsgrad = function(p)
    return nn.optim.AdamW(p, {lr = 1e-2, weight_decay = 0.1, amsgrad = true})
  end,
  rmsprop = function(p) return nn.optim.RMSprop(p, {lr = 1e-2, momentum = 0.5, centered = true}) end,
}

for _, name in ipairs{"sgd", "sgd_momentum", "adam", "adamw", "adam_amsgrad", "adamw_amsgrad",
  "rmsprop"} do
  local m = model()
  local opt = optimizers[name](m:parameters())
  for _ = 1, 20 do
    opt:zero_grad()
    nn.cross_entropy(m(x), y):backward()
    opt:step()
  end
  for k, p in ipairs(m:parameters()) do
    local flat = {}
    for i, v in ipairs(p:contiguous():view(-1):totable()) do flat[i] = ("%.10g"):format(v) end
    print(("%s_param%d %s"):format(name, k, table.concat(flat, " ")))
  end
end
