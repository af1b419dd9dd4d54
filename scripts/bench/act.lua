-- scripts/bench/act.lua: every activation's forward and forward+backward on 10^6 f32
-- elements, as "name seconds" lines (the best of repeated batches, as in ops.lua). act.py
-- runs the same in PyTorch (composed from its ops where it has no such function); `make
-- bench` (scripts/bench/run) prints the ratios.
local nn = require "nn"

local BUDGET = tonumber(os.getenv("ACT_BUDGET") or "0.4")
local time_best = dofile((arg[0]:match("^(.*)/") or ".") .. "/best.lua")
local function best(n, f) return time_best(n, f, BUDGET) end

local N = 1000000
local x = nn.randn(N):requires_grad_()
local g = nn.randn(N)
-- learnable parameters (shared), differentiated in the fwdbwd figures as a model would
local function param(v) return nn.full({1}, v):requires_grad_() end
local prelu_a, beta, snake_a, sau_alpha, sau_sigma = param(0.25), param(1), param(1), param(0.01), param(1)
local rat = nn.Rational()
local ra, rb = rat.numerator, rat.denominator
local params = {prelu = {prelu_a}, swish_beta = {beta}, snake_a = {snake_a},
  sau = {sau_alpha, sau_sigma}, rational = {ra, rb}}
local function half(t) return t:view(1000, 1000) end
-- name = function of x (the same list, in the same order, as act.py)
local acts = {
  {"relu", nn.relu}, {"leaky_relu", function(t) return nn.leaky_relu(t, 0.01) end},
  {"elu", nn.elu}, {"gelu", nn.gelu}, {"gelu_tanh", function(t) return nn.gelu(t, "tanh") end},
  {"silu", nn.silu}, {"mish", nn.mish}, {"softplus", nn.softplus}, {"sigmoid", nn.sigmoid},
  {"tanh", nn.tanh}, {"hardtanh", nn.hardtanh}, {"abs", nn.abs}, {"relu2", nn.relu2},
  {"smelu", nn.smelu}, {"snake", nn.snake}, {"helu", nn.helu}, {"shifted_relu", nn.shifted_relu},
  {"fatrelu", nn.fatrelu}, {"regelu2", nn.regelu2}, {"resilu2", nn.resilu2},
  {"prelu", function(t) return nn.prelu(t, prelu_a) end},
  {"swish_beta", function(t) return nn.swish_beta(t, beta) end},
  {"snake_a", function(t) return nn.snake_a(t, snake_a) end},
  {"sau", function(t) return nn.sau(t, sau_alpha, sau_sigma) end},
  {"rational", function(t) return nn.rational(t, ra, rb) end},
  {"relu_attention", function(t) return nn.relu_attention(half(t)) end},
  {"glu", function(t) return nn.glu(half(t)) end},
  {"reglu", function(t) return nn.reglu(half(t)) end},
  {"geglu", function(t) return nn.geglu(half(t)) end},
  {"swiglu", function(t) return nn.swiglu(half(t)) end},
  {"bilinear", function(t) return nn.bilinear(half(t)) end},
}
local only = os.getenv("ACT") or ""
for _, a in ipairs(acts) do
  local name, f = a[1], a[2]
  if name:find(only, 1, true) and (os.getenv("ACT_EXACT") == nil or name == only) then
    print(name .. "_fwd", best(10, function(n)
      nn.no_grad(function() for _ = 1, n do local y = f(x) end end)
    end))
    local wrt = {x}
    for _, p in ipairs(params[name] or {}) do wrt[#wrt + 1] = p end
    print(name .. "_fwdbwd", best(10, function(n)
      for _ = 1, n do
        local y = f(x)
        local gx = nn.grad({y}, wrt, {g:narrow(1, 1, y:numel()):view(y:shape())})
      end
    end))
  end
end
