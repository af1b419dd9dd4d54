-- stdlib/nn/stats.lua: analyses of ReLU networks, as nn.stats.
--
-- The C kernels (nn/lua/lstats.c: count_zeros, active, pattern_ids, flips, distinct, changes,
-- path_length, ...) are already in the table nn.stats; this file adds the analyses of whole
-- models. A model's activations are read by forward hooks on its rectifier modules (the
-- classes named in nn.stats.rectifiers, or those chosen by opts.probe(name, module)), so
-- ReLUs called as functions inside a forward are not seen. Layers are named as by
-- m:named_modules() ("1", "fc1", "layers.3"); a module called twice in one forward gives
-- "name" and "name:2".
--
-- A unit is active on an input where its activation is > 0, dead on a set of inputs where
-- it is active on none; sparsity counts exact zeros. The units of an activation are every
-- dim after the batch dim, except for the feature maps of conv layers ((N, C, H, W) and
-- more dims): there a unit is a channel (a filter), active where any position is > 0, so a
-- filter that never fires on the data is one dead unit. Activation patterns (regions) use
-- every element.
local nn = require "nn"
local Module = require "nn.module"
local options = require "nn.options"
local Regions = require "nn.regions"

local M = nn.stats

local function fail(fname, fmt, ...)
  error("nn.stats." .. fname .. ": " .. string.format(fmt, ...), 0)
end

-- The module classes whose outputs are probed: rectifiers, where > 0 means "on".
M.rectifiers = {
  ReLU = true, ReLU2 = true, LeakyReLU = true, PReLU = true, RReLU = true, ELU = true,
  CELU = true, SELU = true, GELU = true, SiLU = true, Mish = true, SmeLU = true, HeLU = true,
}

-- ---- probing a model ----

-- {name =, module =} of the modules to probe, in named_modules order, each module once
local function probed_modules(model, opts)
  local list, seen = {}, {}
  local probe = opts and opts.probe
  for name, m in model:named_modules() do
    local want
    if probe then want = probe(name, m) else want = M.rectifiers[m.__name] end
    if want and not seen[m] then
      seen[m] = true
      list[#list + 1] = {name = name ~= "" and name or m.__name, module = m}
    end
  end
  return list
end

-- Runs body(run) with hooks on the probed modules: run(x) returns model(x) and the list of
-- {name =, output =} recorded during that forward, in call order. The hooks are removed
-- however body ends.
local function probing(fname, model, opts, body)
  if not Module.is_module(model) then fail(fname, "expected a model, got %s", type(model)) end
  local mods = probed_modules(model, opts)
  if #mods == 0 then
    fail(fname, "the model has no rectifier modules to probe (nn.ReLU, ...): ReLUs called "
      .. "as functions inside forward cannot be seen; use modules, or pass opts.probe")
  end
  local records, handles = {}, {}
  for i, p in ipairs(mods) do
    handles[i] = p.module:register_forward_hook(function(_, inp, out)
      p.calls = p.calls + 1
      local name = p.calls == 1 and p.name or p.name .. ":" .. p.calls
      records[#records + 1] = {name = name, output = out, input = inp}
    end)
  end
  local function run(x)
    records = {}
    for _, p in ipairs(mods) do p.calls = 0 end
    return model(x), records
  end
  local res = table.pack(pcall(body, run))
  for _, h in ipairs(handles) do h:remove() end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- body() with every module of model in eval mode (a fixed function: no dropout, no batch
-- statistics), then the modes as they were.
local function in_eval(model, body)
  local modes = {}
  for _, m in ipairs(model:modules()) do modes[m] = m.training end
  model:eval()
  local res = table.pack(pcall(body))
  for m, mode in pairs(modes) do rawset(m, "training", mode) end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

local function batches_of(fname, x)
  if nn.is_tensor(x) then return {x} end
  if type(x) == "table" and #x > 0 then
    for i, b in ipairs(x) do
      if not nn.is_tensor(b) then fail(fname, "batch %d is a %s, not a tensor", i, type(b)) end
    end
    return x
  end
  fail(fname, "expected inputs: a tensor or a list of tensors, got %s", type(x))
end

-- ---- sparsity, activations, dead units ----

function M.activations(model, x, opts)
  if not nn.is_tensor(x) then fail("activations", "expected an input tensor, got %s", type(x)) end
  return nn.no_grad(probing, "activations", model, opts, function(run)
    local _, records = run(x)
    local acts, names = {}, {}
    for i, r in ipairs(records) do
      acts[r.name], names[i] = r.output, r.name
    end
    return acts, names
  end)
end

local function fraction_of_zeros(t)
  local n = t:numel()
  return n > 0 and M.count_zeros(t) / n or 0
end

function M.sparsity(t, x, opts)
  if nn.is_tensor(t) then return fraction_of_zeros(t) end
  if not Module.is_module(t) then
    fail("sparsity", "expected a tensor, or a model and its input, got %s", type(t))
  end
  local acts, names = M.activations(t, x, opts)
  local per, zeros, total = {}, 0, 0
  for _, name in ipairs(names) do
    local a = acts[name]
    per[name] = fraction_of_zeros(a)
    zeros, total = zeros + M.count_zeros(a), total + a:numel()
  end
  return per, total > 0 and zeros / total or 0
end

-- {name = mask of units active on some input}, and the names in order, over all batches
local function ever_active(fname, model, x, opts)
  local list = batches_of(fname, x)
  return nn.no_grad(probing, fname, model, opts, function(run)
    local masks, names = {}, {}
    for _, xb in ipairs(list) do
      local _, records = run(xb)
      for _, r in ipairs(records) do
        if masks[r.name] then
          M.active(r.output, masks[r.name])
        else
          masks[r.name] = M.active(r.output)
          names[#names + 1] = r.name
        end
      end
    end
    return masks, names
  end)
end

-- {name = dead count}, {name = units}, dead total, units total
local function dead_counts(fname, model, x, opts)
  local masks, names = ever_active(fname, model, x, opts)
  local dead, units, all_dead, all_units = {}, {}, 0, 0
  for _, name in ipairs(names) do
    local mask = masks[name]
    dead[name], units[name] = M.count_zeros(mask), mask:numel()
    all_dead, all_units = all_dead + dead[name], all_units + units[name]
  end
  return dead, units, all_dead, all_units
end

function M.dead_units(model, x, opts)
  local dead, units = dead_counts("dead_units", model, x, opts)
  return dead, units
end

function M.dead_rate(model, x, opts)
  if not nn.is_tensor(x) then
    fail("dead_rate", "expected one batch (a tensor), got %s", type(x))
  end
  local dead, units, all_dead, all_units = dead_counts("dead_rate", model, x, opts)
  local rate = {}
  for name, n in pairs(units) do rate[name] = n > 0 and dead[name] / n or 0 end
  return rate, all_units > 0 and all_dead / all_units or 0
end

-- ---- patterns over many points ----

-- The dtype the model computes in: its first float parameter's, else f32.
local function model_dtype(model)
  for _, p in ipairs(model:parameters()) do
    local d = p:dtype()
    if d == "f32" or d == "f64" then return d end
  end
  return "f32"
end

-- Points per forward: about 4M input numbers, within [256, 65536]; opts.batch overrides.
local function batch_size(fname, opts, per_point)
  local batch = opts.batch
  if batch == nil then
    return math.max(256, math.min(65536, (1 << 22) // math.max(1, per_point)))
  end
  batch = options.whole(batch) or batch
  if math.type(batch) ~= "integer" or batch < 1 then
    fail(fname, "batch must be a positive integer, got %s", tostring(batch))
  end
  return batch
end

-- Runs the model (no grad, eval mode) over n points made by make(i, count) (points i ..
-- i+count-1, 1-based), calling each(i, count, output, records) per batch.
local function sweep(fname, model, opts, n, per_point, make, each)
  local batch = batch_size(fname, opts, per_point)
  in_eval(model, function()
    nn.no_grad(probing, fname, model, opts, function(run)
      for i = 1, n, batch do
        local count = math.min(batch, n - i + 1)
        local out, records = run(make(i, count))
        each(i, count, out, records)
      end
    end)
  end)
end

local function outputs_of(records)
  local hs = {}
  for i, r in ipairs(records) do hs[i] = r.output end
  return hs
end

local function check_lim(fname, lim, what)
  if type(lim) ~= "table" or type(lim[1]) ~= "number" or type(lim[2]) ~= "number" then
    local got = tostring(lim)
    if type(lim) == "table" then -- {1}, not table: 0x...
      local parts = {}
      for i = 1, #lim do parts[i] = tostring(lim[i]) end
      got = "{" .. table.concat(parts, ", ") .. "}"
    end
    fail(fname, "%s must be {lo, hi}, got %s", what, got)
  end
  return lim[1], lim[2]
end

-- The window: {ulo, uhi, vlo, vhi} and to_input(u, v), which maps N x 1 tensors of window
-- coordinates to the model's N points: (x, y) = (u, v) for xlim/ylim; x0 + u (x1 - x0) +
-- v (x2 - x0) for plane = {x0, x1, x2}, shaped as x0.
local function window(fname, opts, dtype)
  if opts.plane then
    local p = opts.plane
    if type(p) ~= "table" or not (nn.is_tensor(p[1]) and nn.is_tensor(p[2])
        and nn.is_tensor(p[3])) then
      fail(fname, "plane must be {x0, x1, x2}, three tensors of one shape")
    end
    local shape = p[1]:shape()
    for k = 2, 3 do
      if table.concat(p[k]:shape(), ",") ~= table.concat(shape, ",") then
        fail(fname, "plane points have shapes {%s} and {%s}", table.concat(shape, ","),
          table.concat(p[k]:shape(), ","))
      end
    end
    local ext = opts.extent or 0.5
    local ulo, uhi = check_lim(fname, opts.ulim or {-ext, 1 + ext}, "ulim")
    local vlo, vhi = check_lim(fname, opts.vlim or {-ext, 1 + ext}, "vlim")
    local x0 = p[1]:to(dtype):reshape(1, -1)
    local e1 = p[2]:to(dtype):reshape(1, -1) - x0
    local e2 = p[3]:to(dtype):reshape(1, -1) - x0
    local uu, ww, uw = (e1 * e1):sum():item(), (e2 * e2):sum():item(), (e1 * e2):sum():item()
    if not (uu * ww - uw * uw > 1e-12 * uu * ww) then
      fail(fname, "the plane's three points are on one line (or equal): they span no plane")
    end
    return {ulo, uhi, vlo, vhi}, function(u, v)
      local pts = x0 + u:to(dtype) * e1 + v:to(dtype) * e2
      return pts:view(u:size(1), table.unpack(shape))
    end, x0:numel()
  end
  local xlo, xhi = check_lim(fname, opts.xlim, "xlim")
  local ylo, yhi = check_lim(fname, opts.ylim, "ylim")
  return {xlo, xhi, ylo, yhi}, function(u, v) return nn.cat({u, v}, 2):to(dtype) end, 2
end

-- The grid's points for rows i .. i+rows-1 as (rows*res, 2) (xlim/ylim) or
-- (rows*res, shape of x0...) (plane): row i has v = vs[i], column j has u = us[j].
local function grid_maker(fname, opts, res, dtype)
  local lims, to_input, per_point = window(fname, opts, dtype)
  local us, vs = nn.linspace(lims[1], lims[2], res):to(dtype), nn.linspace(lims[3], lims[4], res):to(dtype)
  return function(i, rows)
    local u = us:view(1, res):expand(rows, res):reshape(rows * res, 1)
    local v = vs:narrow(1, i, rows):view(rows, 1):expand(rows, res):reshape(rows * res, 1)
    return to_input(u, v)
  end, per_point
end

-- body() with the model's float parameters and buffers replaced by f64 copies, then the
-- very tensors it had (an optimizer's references stay valid).
local function in_f64(model, body)
  local saved = {}
  for _, m in ipairs(model:modules()) do
    for _, list in ipairs({rawget(m, "_params") or {}, rawget(m, "_buffers") or {}}) do
      for _, name in ipairs(list) do
        local t = rawget(m, name)
        if nn.is_tensor(t) and (t:dtype() == "f32" or t:dtype() == "f64") then
          saved[#saved + 1] = {m, name, t}
          rawset(m, name, t:detach():double())
        end
      end
    end
  end
  local res = table.pack(pcall(body))
  for _, e in ipairs(saved) do rawset(e[1], e[2], e[3]) end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- The exact count (nn/regions.lua) on the window of opts: the model's probed pre-activations
-- at window points, computed in f64 (the same weights, rounded less), one forward per
-- probed layer.
local function exact_regions(model, opts)
  local lims, to_input = window("regions", opts, "f64")
  local function pre(uv)
    local n, records = uv:size(1), nil
    in_eval(model, function()
      nn.no_grad(probing, "regions", model, opts, function(run)
        local _
        _, records = run(to_input(uv:narrow(2, 1, 1), uv:narrow(2, 2, 1)))
      end)
    end)
    local layers = {}
    for i, r in ipairs(records) do
      if not nn.is_tensor(r.input) or r.input:numel() ~= r.output:numel() then
        fail("regions", "exact = true reads each probed module's input: %s gave none", r.name)
      end
      layers[i] = r.input:double():reshape(n, -1)
    end
    return layers
  end
  return in_f64(model, function()
    return Regions.count(pre, lims, 1e-7, 1e-9, function(fmt, ...) fail("regions", fmt, ...) end)
  end)
end

function M.regions(model, opts)
  if type(opts) ~= "table" then
    fail("regions", "expected options {xlim, ylim, res} or {plane = {x0, x1, x2}, res}")
  end
  if not opts.plane and not (opts.xlim and opts.ylim) then
    fail("regions", "give either xlim and ylim, or plane = {x0, x1, x2}")
  end
  local res = options.whole(opts.res or 256) or opts.res
  -- at most 8192: a grid of 67 million points; beyond, the sweep would take hours, not an error
  if math.type(res) ~= "integer" or res < 2 or res > 8192 then
    fail("regions", "res must be an integer in [2, 8192], got %s", tostring(res))
  end
  if opts.exact ~= nil and type(opts.exact) ~= "boolean" then
    fail("regions", "exact must be true or false, got %s (%s)", type(opts.exact),
      tostring(opts.exact))
  end
  local dtype = model_dtype(model)
  local make, per_point = grid_maker("regions", opts, res, dtype)
  local ids = nn.empty({res, res}, "i64")
  -- the sweep goes over rows of res points: opts.batch counts points
  local rows = math.max(1, batch_size("regions", opts, per_point) // res)
  local row_opts = setmetatable({batch = rows}, {__index = opts})
  sweep("regions", model, row_opts, res, per_point * res, make,
    function(i, count, _, records)
      ids:narrow(1, i, count):copy_(M.pattern_ids(outputs_of(records)):view(count, res))
    end)
  local count, labels = M.distinct(ids:view(res * res))
  if opts.exact then count = exact_regions(model, opts) end
  return count, ids, labels:view(res, res)
end

-- The model's activation pattern ids at the N points of path (N x d...), in batches, and
-- the unit sign flips between consecutive points (closed: also last -> first), counted
-- across batch boundaries too.
local function path_patterns(fname, model, path, opts)
  if not nn.is_tensor(path) or path:dim() < 1 then
    fail(fname, "expected a path: a tensor of N points (N x d), got %s", tostring(path))
  end
  local n = path:size(1)
  local ids = nn.empty({n}, "i64")
  local flips, first, last = 0, nil, nil
  -- the first or last sample of each layer (views of one row)
  local function rows_at(hs, i)
    local out = {}
    for l, h in ipairs(hs) do out[l] = h:narrow(1, i, 1) end
    return out
  end
  -- the flips between one row per layer and another
  local function between(a, b)
    local pairs_ = {}
    for l = 1, #a do pairs_[l] = nn.cat({a[l], b[l]}, 1) end
    return M.flips(pairs_)
  end
  local per_point = n > 0 and path:numel() // n or 1
  sweep(fname, model, opts, n, per_point,
    function(i, count) return path:narrow(1, i, count) end,
    function(i, count, _, records)
      local hs = outputs_of(records)
      ids:narrow(1, i, count):copy_(M.pattern_ids(hs))
      flips = flips + M.flips(hs)
      if last then flips = flips + between(last, rows_at(hs, 1)) end
      first = first or rows_at(hs, 1)
      last = rows_at(hs, count)
    end)
  if opts.closed and n > 1 then flips = flips + between(last, first) end
  return ids, flips
end

function M.pattern_changes(model, path, opts)
  opts = opts or {}
  local ids, flips = path_patterns("pattern_changes", model, path, opts)
  return M.changes(ids, opts.closed), ids, flips
end

function M.length_distortion(model, curve, opts)
  opts = opts or {}
  if not nn.is_tensor(curve) or curve:dim() < 1 or curve:size(1) < 2 then
    fail("length_distortion", "expected a curve: a tensor of at least 2 points (N x d)")
  end
  local n = curve:size(1)
  local outs = {}
  in_eval(model, function()
    nn.no_grad(function()
      local batch = batch_size("length_distortion", opts, curve:numel() // n)
      for i = 1, n, batch do
        local count = math.min(batch, n - i + 1)
        local y = model(curve:narrow(1, i, count))
        outs[#outs + 1] = y:reshape(count, -1)
      end
    end)
  end)
  local out_len = M.path_length(nn.cat(outs, 1), opts.closed)
  local in_len = M.path_length(curve, opts.closed)
  if in_len == 0 then fail("length_distortion", "the curve has length 0") end
  return out_len / in_len, out_len, in_len
end

-- ---- curves ----

local function flat_pair(fname, a, b)
  if not (nn.is_tensor(a) and nn.is_tensor(b)) then fail(fname, "expected tensors as points") end
  if a:numel() ~= b:numel() then
    fail(fname, "points of %d and %d numbers", a:numel(), b:numel())
  end
  return a:double():reshape(1, -1), b:double():reshape(1, -1)
end

local function as_points(pts, like, n)
  local dt = like:dtype() == "f64" and "f64" or "f32"
  return pts:to(dt):view(n, table.unpack(like:shape()))
end

local function check_n(fname, n, least)
  n = options.whole(n) or n
  if math.type(n) ~= "integer" or n < least then
    fail(fname, "n must be an integer >= %d, got %s", least, tostring(n))
  end
  return n
end

function M.line(a, b, n)
  n = check_n("line", n, 2)
  local pa, pb = flat_pair("line", a, b)
  local t = nn.linspace(0, 1, n):double():view(n, 1)
  return as_points(pa + t * (pb - pa), a, n)
end

local function dot(u, v) return (u * v):sum():item() end

function M.circle(a, b, c, n)
  n = check_n("circle", n, 3)
  local pa, pb = flat_pair("circle", a, b)
  local _, pc = flat_pair("circle", a, c)
  -- the center is a + s u + t w, as far from a as from b and c: a 2 x 2 linear system
  local u, w = pb - pa, pc - pa
  local uu, uw, ww = dot(u, u), dot(u, w), dot(w, w)
  local det = uu * ww - uw * uw
  if det <= 1e-12 * uu * ww then fail("circle", "the three points are on one line") end
  local s = 0.5 * (uu * ww - ww * uw) / det
  local t = 0.5 * (ww * uu - uu * uw) / det
  local center = pa + s * u + t * w
  local e1 = pa - center
  local r = math.sqrt(dot(e1, e1))
  e1 = e1 / r
  -- in the plane, orthogonal to e1: from b - a or c - a, whichever is further from e1's
  -- line (one of them is when the other is a's antipode)
  local e2u, e2w = u - dot(u, e1) * e1, w - dot(w, e1) * e1
  local e2 = dot(e2u, e2u) >= dot(e2w, e2w) and e2u or e2w
  e2 = e2 / math.sqrt(dot(e2, e2))
  local theta = nn.linspace(0, 2 * math.pi * (n - 1) / n, n):double():view(n, 1)
  local pts = center + r * (theta:cos() * e1 + theta:sin() * e2)
  return as_points(pts, a, n)
end

-- ---- docs ----

nn.document("Analyses", {
  {"stats.sparsity", M.sparsity,
    "nn.stats.sparsity(t) -> fraction | (model, x) -> {name = fraction}, all",
    "The fraction of exact zeros of a tensor; of a model on input x, per probed layer and over "
      .. "all of them."},
  {"stats.activations", M.activations,
    "nn.stats.activations(model, x [, opts]) -> {name = h}, names",
    "The outputs of the model's rectifier modules on x (no grad), by layer name, and the names "
      .. "in call order; opts.probe(name, m) -> bool chooses other modules."},
  {"stats.dead_units", M.dead_units,
    "nn.stats.dead_units(model, x [, opts]) -> {name = dead}, {name = units}",
    "Per layer, the units never > 0 on x (a batch, or a list of batches: a window), and the "
      .. "number of units; a conv layer's units are its channels (a dead filter)."},
  {"stats.dead_rate", M.dead_rate, "nn.stats.dead_rate(model, x [, opts]) -> {name = rate}, all",
    "Per layer, the fraction of units inactive on the whole batch x (the dynamic dead rate), "
      .. "and the fraction over all layers."},
  {"stats.regions", M.regions,
    "nn.stats.regions(model, {xlim, ylim, res=256} | {plane = {x0, x1, x2}, res, extent=0.5}"
      .. " [, exact=false]) -> count, ids, labels",
    "Linear regions on a res x res grid: ids[i][j] is the pattern id (i64) at x = xs[j], "
      .. "y = ys[i] (linspace over xlim, ylim), or at x0 + us[j] (x1 - x0) + vs[i] (x2 - x0) "
      .. "(linspace over ulim, vlim, default [-extent, 1 + extent]); count is the number of "
      .. "distinct patterns, labels numbers them 1..count in order of first appearance. The "
      .. "grid misses regions smaller than its cells: exact = true counts them all instead, "
      .. "cutting the window's convex cells by each unit's line, layer by layer, in f64 (a "
      .. "piecewise-linear model only: ReLU-like units between affine layers; others are "
      .. "refused); ids and labels stay the grid's."},
  {"stats.pattern_changes", M.pattern_changes,
    "nn.stats.pattern_changes(model, path [, {closed}]) -> count, ids, flips",
    "How often the activation pattern changes between consecutive points of path (N x d): "
      .. "the linear pieces crossed, minus one (closed: also from the last point to the "
      .. "first); flips counts unit sign changes, which also sees two boundaries crossed "
      .. "between the same two points (a coarse path)."},
  {"stats.length_distortion", M.length_distortion,
    "nn.stats.length_distortion(model, curve [, {closed}]) -> ratio, out_len, in_len",
    "The length of the model's output along the polyline curve (N x d) over the curve's own "
      .. "length (He-initialized ReLU nets keep it about constant with depth)."},
  {"stats.line", M.line, "nn.stats.line(a, b, n) -> points",
    "n points evenly spaced from a to b (both ends), as an n x (shape of a) tensor."},
  {"stats.circle", M.circle, "nn.stats.circle(a, b, c, n) -> points",
    "n points evenly spaced around the circle through a, b and c, starting at a and not "
      .. "repeating it: a closed curve (use {closed = true})."},
})

return M
