-- stdlib/nn/regions.lua: the exact number of linear regions of a piecewise-linear network
-- on a 2-D window (nn.stats.regions{exact = true}), as the papers on linear regions count
-- them: layer by layer, each unit's line cuts the current convex cells.
--
-- On a cell where the activation patterns of the probed layers before layer l are fixed,
-- every pre-activation of layer l is an affine function a u + b v + c of the window's
-- coordinates (u, v). It is read from the model at three points inside the cell (and checked
-- at a fourth: a model that is not piecewise linear there, a GELU or a LayerNorm, is refused
-- instead of counted wrong); the line a u + b v + c = 0 of each unit then splits the cell
-- in two when it crosses it. The cells left after the last layer are the regions: each has
-- one activation pattern, and the points of one pattern form one convex cell.
--
-- Cells are convex polygons, lists of {u, v} vertices in order. A line that passes within
-- `tol` (a fraction of the window's diameter: 1e-9 for f64 models, 1e-5 for f32) of a
-- cell's far side does not cut it: rounding makes no slivers.
local nn = require "nn"

local M = {}

local function area(poly)
  local s, n = 0, #poly
  for i = 1, n do
    local p, q = poly[i], poly[i % n + 1]
    s = s + p[1] * q[2] - q[1] * p[2]
  end
  return math.abs(s) / 2
end

local function centroid(poly)
  local u, v = 0, 0
  for _, p in ipairs(poly) do u, v = u + p[1], v + p[2] end
  return {u / #poly, v / #poly}
end

-- Four points inside poly: its centroid, then halfway to three vertices chosen far apart
-- (the first two span the widest triangle with the centroid: a well-conditioned fit).
local function probes(poly)
  local c, n = centroid(poly), #poly
  local best, bi, bj = -1, 1, 2
  for i = 1, n do
    for j = i + 1, n do
      local a = math.abs((poly[i][1] - c[1]) * (poly[j][2] - c[2])
        - (poly[j][1] - c[1]) * (poly[i][2] - c[2]))
      if a > best then best, bi, bj = a, i, j end
    end
  end
  local bk = 1
  while bk == bi or bk == bj do bk = bk + 1 end
  local function half(k) return {(c[1] + poly[k][1]) / 2, (c[2] + poly[k][2]) / 2} end
  return {c, half(bi), half(bj), half(bk)}
end

-- Splits poly by the line a u + b v + c = 0 into the parts where it is >= 0 and <= 0;
-- nil for a part that is empty (the line does not cut poly by more than tol).
local function cut(poly, a, b, c, tol)
  local norm = math.sqrt(a * a + b * b)
  if norm == 0 then return nil end
  local s, side, lo, hi = {}, {}, math.huge, -math.huge
  for i, p in ipairs(poly) do
    s[i] = (a * p[1] + b * p[2] + c) / norm
    side[i] = s[i] > tol and 1 or s[i] < -tol and -1 or 0
    lo, hi = math.min(lo, s[i]), math.max(hi, s[i])
  end
  if hi <= tol or lo >= -tol then return nil end
  local pos, neg, n = {}, {}, #poly
  for i = 1, n do
    local j = i % n + 1
    local p = poly[i]
    if side[i] >= 0 then pos[#pos + 1] = p end
    if side[i] <= 0 then neg[#neg + 1] = p end
    if side[i] * side[j] < 0 then -- the edge crosses the line
      local t = s[i] / (s[i] - s[j])
      local x = {p[1] + t * (poly[j][1] - p[1]), p[2] + t * (poly[j][2] - p[2])}
      pos[#pos + 1], neg[#neg + 1] = x, x
    end
  end
  return pos, neg
end

-- The affine function through three probe values: z = a u + b v + c.
local function fit(q, z1, z2, z3)
  local du1, dv1 = q[2][1] - q[1][1], q[2][2] - q[1][2]
  local du2, dv2 = q[3][1] - q[1][1], q[3][2] - q[1][2]
  local det = du1 * dv2 - du2 * dv1
  local dz1, dz2 = z2 - z1, z3 - z1
  local a = (dz1 * dv2 - dz2 * dv1) / det
  local b = (du1 * dz2 - du2 * dz1) / det
  return a, b, z1 - a * q[1][1] - b * q[1][2]
end

-- count, cells: the regions of the window [ulo, uhi] x [vlo, vhi].
-- pre(points) runs the model on the N x 2 (u, v) f64 tensor of window points and returns
-- the list of its probed pre-activations, one N x units f64 tensor per probed layer, in
-- call order; fail(fmt, ...) raises the caller's error. rel is the rounding tolerance of
-- the model's dtype (relative), tol the slivers' (a fraction of the window's diameter).
function M.count(pre, lims, rel, tol, fail)
  local ulo, uhi, vlo, vhi = lims[1], lims[2], lims[3], lims[4]
  local cells = {{{ulo, vlo}, {uhi, vlo}, {uhi, vhi}, {ulo, vhi}}}
  local dist = tol * math.sqrt((uhi - ulo) ^ 2 + (vhi - vlo) ^ 2)
  local layer, nlayers = 1, nil
  repeat
    local pts, qs = {}, {}
    for i, cell in ipairs(cells) do
      qs[i] = probes(cell)
      for k = 1, 4 do pts[#pts + 1] = qs[i][k] end
    end
    local layers = pre(nn.tensor(pts, "f64"))
    if nlayers and #layers ~= nlayers then
      fail("the model probes %d layers on some points and %d on others", nlayers, #layers)
    end
    nlayers = nlayers or #layers
    local z = layers[layer]:totable()
    local nextc = {}
    for i, cell in ipairs(cells) do
      local q, r = qs[i], 4 * (i - 1)
      local pieces = {cell}
      for unit = 1, #z[r + 1] do
        local z1, z2, z3, z4 = z[r + 1][unit], z[r + 2][unit], z[r + 3][unit], z[r + 4][unit]
        local a, b, c = fit(q, z1, z2, z3)
        local scale = math.max(math.abs(z1), math.abs(z2), math.abs(z3), math.abs(z4), 1e-30)
        if not (math.abs(a * q[4][1] + b * q[4][2] + c - z4) <= 100 * rel * scale) then
          fail("exact = true needs a piecewise-linear model (ReLU-like units between affine "
            .. "layers): probed layer %d, unit %d is not affine where the layers before it "
            .. "are fixed (use the grid count: exact = false)", layer, unit)
        end
        local out = {}
        for _, piece in ipairs(pieces) do
          local p, n = cut(piece, a, b, c, dist)
          if p then out[#out + 1], out[#out + 2] = p, n else out[#out + 1] = piece end
        end
        pieces = out
      end
      for _, piece in ipairs(pieces) do nextc[#nextc + 1] = piece end
    end
    cells = nextc
    layer = layer + 1
  until layer > nlayers
  return #cells, cells
end

M.area = area

return M
