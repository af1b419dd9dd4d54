-- scripts/depth_length.lua: "Deep ReLU Networks Preserve Expected Length" (Hanin, Jeffares,
-- Rolnick), experiment E3 of the seed catalog.
--
--   relua scripts/depth_length.lua [width=64] [inits=8] [input_dim=16]
--
-- For MLPs of growing depth at He initialization (weights N(0, 2/fan_in), zero biases), the
-- expected length distortion of a curve, length(N(curve)) / length(curve), does not grow
-- with depth, although the worst case allowed by the weights (the product of the layers'
-- operator norms) grows exponentially; the number of linear pieces the curve crosses grows
-- only about linearly in the number of neurons ("per unit" stays near constant). The curves
-- are circles through three random inputs. Prints a table; with the viz module, also saves
-- depth_length.png.
local width = tonumber(arg and arg[1]) or 64
local inits = tonumber(arg and arg[2]) or 32
local d_in = tonumber(arg and arg[3]) or 16
local depths = {1, 2, 4, 8, 16, 32}
-- samples along each circle; the pieces are counted by unit sign flips, which see every
-- boundary crossed even when two fall between the same two samples
local points = 4096

nn.manual_seed(0)

-- d_in -> width -> ... (depth hidden ReLU layers) -> 1, He-initialized
local function mlp(depth)
  local layers, n = {}, d_in
  for _ = 1, depth do
    local fc = nn.Linear(n, width)
    nn.init.kaiming_normal_(fc.weight)
    nn.init.zeros_(fc.bias)
    layers[#layers + 1] = fc
    layers[#layers + 1] = nn.ReLU()
    n = width
  end
  local out = nn.Linear(n, 1)
  nn.init.kaiming_normal_(out.weight)
  nn.init.zeros_(out.bias)
  layers[#layers + 1] = out
  return nn.Sequential(layers)
end

-- The largest singular value of w, by power iteration on w^T w.
local function operator_norm(w)
  local v = nn.randn(w:size(2), 1)
  for _ = 1, 30 do
    v = w:t():mm(w:mm(v))
    v = v / v:norm():item()
  end
  return w:mm(v):norm():item()
end

-- log10 of the product of the operator norms: the worst-case stretch of a curve
local function log_lipschitz(model)
  local s = 0
  nn.no_grad(function()
    for _, m in ipairs(model:modules()) do
      if m.__name == "Linear" then s = s + math.log(operator_norm(m.weight), 10) end
    end
  end)
  return s
end

local function mean_std(xs)
  local m, v = 0, 0
  for _, x in ipairs(xs) do m = m + x / #xs end
  for _, x in ipairs(xs) do v = v + (x - m) ^ 2 / math.max(1, #xs - 1) end
  return m, math.sqrt(v)
end

local t0 = nn.time()
print(string.format("width %d, input dim %d, %d inits per depth, circles of %d points",
  width, d_in, inits, points))
print(string.format("%6s %8s %8s %8s %10s %12s", "depth", "E[LD]", "std LD", "pieces",
  "per unit", "log10 Lip"))
local rows = {}
for _, depth in ipairs(depths) do
  local lds, pieces, lips = {}, {}, {}
  for k = 1, inits do
    local model = mlp(depth)
    local curve = nn.stats.circle(nn.randn(d_in), nn.randn(d_in), nn.randn(d_in), points)
    lds[k] = nn.stats.length_distortion(model, curve, {closed = true})
    local _, _, flips = nn.stats.pattern_changes(model, curve, {closed = true})
    pieces[k] = flips -- a closed curve has as many pieces as boundaries crossed
    lips[k] = log_lipschitz(model)
  end
  local ld, ld_sd = mean_std(lds)
  local pc = mean_std(pieces)
  local lip = mean_std(lips)
  rows[#rows + 1] = {depth = depth, ld = ld, sd = ld_sd}
  print(string.format("%6d %8.3f %8.3f %8.1f %10.3f %12.2f", depth, ld, ld_sd, pc,
    pc / (depth * width), lip))
end
print(string.format("E[LD] stays flat with depth while the worst case (Lip) grows "
  .. "exponentially; %.1f s", nn.time() - t0))

local ok, viz = pcall(require, "viz")
if ok and type(viz) == "table" and viz.open then
  local v = viz.open{title = "length distortion vs depth", width = 800, height = 500,
    headless = true}
  for _, r in ipairs(rows) do
    v:plot("E[LD]", r.depth, r.ld)
    v:plot("E[LD] + std", r.depth, r.ld + r.sd)
    v:plot("E[LD] - std", r.depth, r.ld - r.sd)
  end
  v:smoothing(0) -- raw means: each point is already an average over inits
  v:labels("depth", "output length / input length")
  print("saved " .. v:save("depth_length.png"))
  v:close()
end
