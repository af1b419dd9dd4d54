-- scripts/bench/best.lua: the timing every op benchmark uses (best.py is PyTorch's twin).
-- best(n, f, budget): f(n) makes n calls; the best time per call over repeated batches,
-- for budget seconds and at least 3 batches. Noise only ever slows a batch down, so the
-- best estimates the undisturbed cost; the Python side gives PyTorch the same time.
local clock = require("nn").time

return function(n, f, budget)
  local t, start, batches = math.huge, clock(), 0
  repeat
    local t0 = clock()
    f(n)
    t = math.min(t, (clock() - t0) / n)
    batches = batches + 1
  until batches >= 3 and clock() - start >= budget
  return t
end
