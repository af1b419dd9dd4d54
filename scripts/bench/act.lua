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
local prelu_a = nn.full({1}, 0.25)
-- name = function of x (the same list, in the same order, as act.py)
local acts = {
  {"relu", nn.relu}, {"leaky_relu", function(t) return nn.leaky_relu(t, 0.01) end},
  {"elu", nn.elu}, {"gelu", nn.gelu}, {"gelu_tanh", function(t) return nn.gelu(t, "tanh") end},
  {"silu", nn.silu}, {"mish", nn.mish}, {"softplus", nn.softplus}, {"sigmoid", nn.sigmoid},
  {"tanh", nn.tanh}, {"hardtanh", nn.hardtanh}, {"abs", nn.abs}, {"relu2", nn.relu2},
  {"smelu", nn.smelu}, {"snake", nn.snake}, {"helu", nn.helu}, {"shifted_relu", nn.shifted_relu},
  {"fatrelu", nn.fatrelu}, {"regelu2", nn.regelu2}, {"resilu2", nn.resilu2},
  {"prelu", function(t) return nn.prelu(t, prelu_a) end},
  {"glu", function(t) return nn.glu(t:view(1000, 1000)) end},
}
local only = os.getenv("ACT") or ""
for _, a in ipairs(acts) do
  local name, f = a[1], a[2]
  if name:find(only, 1, true) then
    print(name .. "_fwd", best(10, function(n)
      nn.no_grad(function() for _ = 1, n do local y = f(x) end end)
    end))
    print(name .. "_fwdbwd", best(10, function(n)
      for _ = 1, n do
        local y = f(x)
        local gx = nn.grad({y}, {x}, {y:numel() == N and g or g:narrow(1, 1, y:numel()):view(y:shape())})
      end
    end))
  end
end
