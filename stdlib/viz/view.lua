-- stdlib/viz/view.lua: the Lua half of the viz module: the glue between models and panels.
--
-- The C module (viz/lviz.c) builds the table, then runs this file with it as its argument
-- when nn has put stdlib on package.path. (Not stdlib/viz/init.lua: with stdlib on the path,
-- require "viz" would find that file before build/viz.so.) The methods here join the view's
-- methods table, viz.View; they measure a model with nn and hand the numbers to the C panels:
--
--   v:watch(model)           forward hooks on the rectifiers -> v:sparsity columns
--   v:partition(model, opts) nn.stats.regions + the predicted classes -> v:partition_image
--   viz.fit_hooks(model, opts, data)   what nn.fit calls when opts.viz is set
--
-- Watching reads the activations the training forward computes anyway (no extra forward,
-- no copies): per rectifier output, one count of zeros and one OR into a mask of the units
-- seen active, both C kernels of nn.stats (tens of microseconds for a 128 x 256 batch).
local viz = ...
if type(viz) ~= "table" then
  error("stdlib/viz/view.lua is run by the viz C module: require \"viz\" with build/ on "
    .. "package.cpath", 2)
end

local has_nn, nn = pcall(require, "nn")
if not has_nn or type(nn) ~= "table" or not nn.stats or not nn.Module then return viz end
local stats, Module = nn.stats, nn.Module
local View = viz.View

local function fail(fname, fmt, ...)
  error(fname .. ": " .. string.format(fmt, ...), 0)
end

local function check_view(fname, v)
  local mt = type(v) == "userdata" and getmetatable(v)
  if not (type(mt) == "table" and mt.__name == "viz.View") then
    fail(fname, "expected a view as self (call it as v:method(...)), got %s", type(v))
  end
end

local function check_model(fname, model)
  if not Module.is_module(model) then
    fail(fname, "expected a model (an nn module), got %s", nn.is_tensor(model) and "a tensor"
      or type(model) .. " (" .. tostring(model) .. ")")
  end
end

local check_options = require("nn.options").check

local function check_every(fname, every, allow_false)
  if every == nil or (allow_false and every == false) then return every end
  if type(every) == "number" and math.tointeger(every) then every = math.tointeger(every) end
  if math.type(every) ~= "integer" or every < 1 then
    fail(fname, "every must be a positive integer%s, got %s", allow_false and " or false" or "",
      tostring(every))
  end
  return every
end

-- Runs f(...); an error from one of the functions f calls is raised again under fname.
local function renamed(fname, f, ...)
  local res = table.pack(pcall(f, ...))
  if res[1] then return table.unpack(res, 2, res.n) end
  local msg = tostring(res[2]):gsub("^[%w_.:]+: ", "")
  error(fname .. ": " .. msg, 0)
end

-- ---- v:watch(model): the sparsity panel from the training forwards ----

local Watcher = {}
Watcher.__index = Watcher

-- How the user reaches the module named name (named_modules' names count from 0, as
-- PyTorch's state dicts do; Lua indexes from 1): "2.1" is model[3][2], "layers.0" is
-- model.layers[1], "fc1" stays fc1 (a name the user gave).
local function user_path(name)
  if not name:find("%d") then return name end
  local out = "model"
  for part in name:gmatch("[^.]+") do
    local k = math.tointeger(tonumber(part))
    out = out .. (k and string.format("[%d]", k + 1) or "." .. part)
  end
  return out
end

-- The modules to probe ({name =, label =, module =}), chosen as nn.stats chooses them: its
-- rectifier classes, or opts.probe(name, m). A row is labeled as the user indexes the model,
-- and with the class when the path is made of indexes: "model[2] ReLU".
local function probed_modules(model, probe)
  local list, seen = {}, {}
  for name, m in model:named_modules() do
    local want
    if probe then want = probe(name, m) else want = stats.rectifiers[m.__name] end
    if want and not seen[m] then
      seen[m] = true
      local label = name
      if name == "" then
        label = m.__name
      elseif name:find("%d") then
        label = user_path(name) .. " " .. m.__name
      end
      list[#list + 1] = {name = name, label = label, module = m, calls = 0}
    end
  end
  return list
end

-- Adds the activation h of layer name to the window since the last column.
function Watcher:_add(name, h)
  local n = h:numel()
  if n == 0 then return end
  local a = self.acc[name]
  if not a then
    a = {zeros = 0, total = 0}
    self.acc[name] = a
    self.names[#self.names + 1] = name
  end
  a.zeros = a.zeros + stats.count_zeros(h)
  a.total = a.total + n
  if a.mask and a.mask:numel() == stats.active_units(h) then -- channels of a feature map
    stats.active(h, a.mask)
  else -- the first batch, or the layer changed its width (variable-length inputs)
    a.mask = stats.active(h)
  end
end

-- The end of a forward of the model: the next one numbers its calls from 1 again.
function Watcher:_forward_done()
  for _, p in ipairs(self.mods) do p.calls = 0 end
  self.forwards = self.forwards + 1
  self.pending = self.pending + 1
  if self.every and self.pending >= self.every then self:column() end
end

function Watcher:column(step)
  local names, fractions, dead = {}, {}, {}
  for _, name in ipairs(self.names) do
    local a = self.acc[name]
    if a.total > 0 then
      names[#names + 1] = name
      fractions[#fractions + 1] = a.zeros / a.total
      dead[#dead + 1] = stats.count_zeros(a.mask)
      a.zeros, a.total = 0, 0
      a.mask:zero_()
    end
  end
  for _, p in ipairs(self.mods) do p.calls = 0 end
  self.pending = 0
  if #names == 0 then return false end
  self.view:sparsity(names, fractions, dead, step or self.forwards)
  self.columns = self.columns + 1
  return true
end

function Watcher:remove()
  for _, h in ipairs(self.handles) do h.remove() end
  self.handles = {}
end
Watcher.unwatch = Watcher.remove

function Watcher:__tostring()
  return string.format("viz watcher: %d layers, %d forwards, %d columns", #self.mods,
    self.forwards, self.columns)
end

local WATCH_OPTIONS = {every = true, probe = true, train_only = true}

function View:watch(model, opts)
  local fname = "v:watch"
  check_view(fname, self)
  check_model(fname, model)
  opts = check_options(fname, opts, WATCH_OPTIONS)
  if opts.probe ~= nil and type(opts.probe) ~= "function" then
    fail(fname, "probe must be a function(name, module) -> boolean, got %s", type(opts.probe))
  end
  local every = check_every(fname, opts.every, true)
  if every == nil then every = 1 end
  local mods = probed_modules(model, opts.probe)
  if #mods == 0 then
    fail(fname, "the model has no rectifier modules to watch (nn.ReLU, ...): ReLUs called as "
      .. "functions inside forward cannot be seen; use modules, or pass opts.probe")
  end
  local w = setmetatable({view = self, model = model, mods = mods, every = every, acc = {},
    names = {}, handles = {}, forwards = 0, pending = 0, columns = 0}, Watcher)
  local train_only = opts.train_only ~= false
  for _, p in ipairs(mods) do
    w.handles[#w.handles + 1] = p.module:register_forward_hook(function(m, _, out)
      if (train_only and not m.training) or not nn.is_tensor(out) then return end
      p.calls = p.calls + 1
      w:_add(p.calls == 1 and p.label or p.label .. ":" .. p.calls, out)
    end)
  end
  -- the model's own hook runs after its rectifiers': one forward is over
  w.handles[#w.handles + 1] = model:register_forward_hook(function(m)
    if not (train_only and not m.training) then w:_forward_done() end
  end)
  return w
end

-- ---- v:partition(model, opts): the ReLU partition panel ----

local REGION_OPTIONS = {"xlim", "ylim", "res", "plane", "ulim", "vlim", "extent", "probe", "batch"}
local PARTITION_OPTIONS = {points = true, labels = true, title = true, every = true,
  classes = true, exact = true}
for _, k in ipairs(REGION_OPTIONS) do PARTITION_OPTIONS[k] = true end

-- The class predicted from each row of a model's output: argmax, or 1 + (out > 0) for a
-- single logit. nil when the output is no batch of scores.
local function classes_of(out)
  if not nn.is_tensor(out) or out:dim() ~= 2 then return nil end
  if out:size(2) == 1 then return out:gt(0):long():view(-1) + 1 end
  return out:argmax(2):view(-1)
end

-- count, ids (res x res) and the predicted classes on the same grid (nil when the output
-- does not say), in one sweep: a hook on the model collects the outputs of the forwards
-- nn.stats.regions makes, batch after batch, row after row.
local function measure(model, o, want_classes)
  local ropts = {res = o.res or 128}
  for _, k in ipairs(REGION_OPTIONS) do
    if o[k] ~= nil then ropts[k] = o[k] end
  end
  local parts, usable = {}, want_classes
  local hook = model:register_forward_hook(function(_, _, out)
    if not usable then return end
    local c = classes_of(out)
    if c then parts[#parts + 1] = c else usable = false end
  end)
  local ok, count, ids = pcall(stats.regions, model, ropts)
  hook.remove()
  if not ok then error(count, 0) end
  -- the number shown is the exact count where the model is piecewise linear (the grid, for
  -- the picture, misses regions smaller than its cells); exact = false shows the grid's
  if o.exact ~= false then
    local eopts = setmetatable({res = 2, exact = true}, {__index = ropts})
    local exact_ok, exact = pcall(stats.regions, model, eopts)
    if exact_ok then count = exact end
  end
  local res = ropts.res
  local classes
  if usable and #parts > 0 then
    classes = #parts == 1 and parts[1] or nn.cat(parts, 1)
    classes = classes:numel() == res * res and classes:view(res, res) or nil
  end
  return count, ids, classes
end

-- The plane's origin x0 (1 x d, f64), its directions e (2 x d: x1 - x0, x2 - x0) and the
-- inverse of their Gram matrix; an error when the three points are on one line.
local function plane_basis(plane)
  if type(plane) ~= "table" or not (nn.is_tensor(plane[1]) and nn.is_tensor(plane[2])
      and nn.is_tensor(plane[3])) then
    error("plane must be {x0, x1, x2}, three tensors of one shape", 0)
  end
  local n = plane[1]:numel()
  if plane[2]:numel() ~= n or plane[3]:numel() ~= n then
    error(string.format("plane points have %d, %d and %d numbers", n, plane[2]:numel(),
      plane[3]:numel()), 0)
  end
  local x0 = plane[1]:double():reshape(1, -1)
  local e = nn.cat({plane[2]:double():reshape(1, -1) - x0,
    plane[3]:double():reshape(1, -1) - x0}, 1)
  local g = e:matmul(e:t()):totable()
  local det = g[1][1] * g[2][2] - g[1][2] * g[2][1]
  if not (det > 1e-12 * g[1][1] * g[2][2]) then
    error("the plane's three points are on one line", 0)
  end
  return x0, e, nn.tensor({{g[2][2], -g[1][2]}, {-g[2][1], g[1][1]}}, "f64") / det
end

-- The (u, v) coordinates in the plane x0 + u (x1 - x0) + v (x2 - x0) of the orthogonal
-- projections of points (N x shape of x0), as an N x 2 f64 tensor.
local function project(points, x0, e, inv)
  local n = points:dim() > 0 and points:size(1) or 0
  if n == 0 or points:numel() ~= n * x0:numel() then
    error(string.format("opts.points must be N inputs of %d numbers each (as the plane's), got "
      .. "a tensor of shape {%s}", x0:numel(), table.concat(points:shape(), ",")), 0)
  end
  local r = points:double():reshape(n, -1) - x0
  return r:matmul(e:t()):matmul(inv) -- (r . e1, r . e2) G^-1
end

local function draw_partition(v, model, o)
  local x0, e, inv
  if o.plane then x0, e, inv = plane_basis(o.plane) end
  local count, ids, classes = measure(model, o, o.classes ~= false)
  local img = {classes = classes, title = o.title, labels = o.labels}
  if o.plane then
    img.xlim = o.ulim or {-(o.extent or 0.5), 1 + (o.extent or 0.5)}
    img.ylim = o.vlim or {-(o.extent or 0.5), 1 + (o.extent or 0.5)}
    if o.points == nil then -- the three points that make the plane, at (0,0), (1,0), (0,1)
      img.points = nn.tensor{{0, 0}, {1, 0}, {0, 1}}
      if not (o.labels and (nn.is_tensor(o.labels) and o.labels:numel() or #o.labels) == 3) then
        img.labels = nil
      end
    else
      img.points = project(nn.is_tensor(o.points) and o.points or nn.tensor(o.points), x0, e, inv)
    end
  else
    img.xlim, img.ylim, img.points = o.xlim, o.ylim, o.points
  end
  img.regions = count
  v:partition_image(ids, img)
  return count
end

function View:partition(model, opts)
  local fname = "v:partition"
  check_view(fname, self)
  check_model(fname, model)
  if type(opts) ~= "table" then
    fail(fname, "expected options {xlim, ylim, res, points, labels} or {plane = {x0, x1, x2}, "
      .. "res}, got %s", type(opts))
  end
  check_options(fname, opts, PARTITION_OPTIONS)
  if not opts.plane and not (opts.xlim and opts.ylim) then
    fail(fname, "give xlim and ylim, or plane = {x0, x1, x2}")
  end
  local every = check_every(fname, opts.every, false)
  local count = renamed(fname, draw_partition, self, model, opts)
  if not every then return count end
  -- again after every `every` training forwards, from a hook on the model (after its
  -- forward, before the loss's backward: the graph is left alone, no grad is taken)
  local handle, forwards, busy = {}, 0, false
  local hook = model:register_forward_hook(function(m)
    if busy or not m.training then return end -- our own sweeps run in eval mode
    forwards = forwards + 1
    if forwards % every ~= 0 then return end
    busy = true
    local ok, err = pcall(draw_partition, self, model, opts)
    busy = false
    if not ok then error(fname .. ": " .. tostring(err), 0) end
  end)
  function handle.remove() hook.remove() end
  handle.unwatch = handle.remove
  return count, handle
end

-- ---- viz.fit_hooks: the live view of nn.fit ----

local FIT_OPTIONS = {path = true, every = true, partition_every = true, res = true, xlim = true,
  ylim = true, points = true, labels = true, headless = true, width = true, height = true,
  title = true, save_every = true, max_points = true, plane = true,
  extent = true, view = true, backend = true, rows = true}

local now = nn.time or os.clock

-- The first Linear of the model (named_modules order), or nil.
local function first_linear(model)
  for _, m in ipairs(model:modules()) do
    if m.__name == "Linear" then return m end
  end
end

-- {lo, hi} around the values of column j of x, with a margin of 10%.
local function span(x, j)
  local col = x:select(2, j)
  local lo, hi = col:min():item(), col:max():item()
  local pad = math.max(0.1 * (hi - lo), 1e-3)
  return {lo - pad, hi + pad}
end

-- The settings of the partition: the plane through cfg.plane's three inputs, or the input
-- plane itself for a 2-D model (with the training points); nil for neither.
local function partition_setup(fname, model, cfg, data)
  local every = check_every(fname, cfg.partition_every, false)
  if cfg.plane then
    return {plane = cfg.plane, res = cfg.res or 128, points = cfg.points, labels = cfg.labels,
      extent = cfg.extent, every = every}
  end
  local lin = first_linear(model)
  if not (lin and lin.in_features == 2) then return nil end
  local x = data and nn.is_tensor(data[1]) and data[1]:dim() == 2 and data[1]:size(2) == 2
    and data[1] or nil
  local y = x and nn.is_tensor(data[2]) and data[2]:dtype() == "i64" and data[2]:dim() == 1
    and data[2] or nil
  local points, labels = cfg.points, cfg.labels
  if points == nil and x then
    points, labels = x, y
    local max = cfg.max_points or 2000
    if x:size(1) > max then -- every k-th point is enough (and leaves the RNG alone)
      local pick = nn.range(1, x:size(1), math.ceil(x:size(1) / max)):long()
      points, labels = x:index_select(1, pick), y and y:index_select(1, pick)
    end
  end
  return {
    xlim = cfg.xlim or (x and span(x, 1)) or {-1, 1},
    ylim = cfg.ylim or (x and span(x, 2)) or {-1, 1},
    res = cfg.res or 128, points = points, labels = labels, every = every,
  }
end

-- The alignment angles of a learning rule (opts.rule with rule:angles) on a fixed sample of
-- the training data (its first 256 rows): {due(step), show(step)}, or nil when there is no
-- such rule. Like the partition, measured no sooner than 19 times its cost after the last,
-- so that it takes at most 5% of the run; a rule whose angles fail is shown without them.
local function angles_setup(v, opts, data, progress)
  local rule = opts.rule
  if type(rule) ~= "table" or type(rule.angles) ~= "function" then return nil end
  if not (data and nn.is_tensor(data[1]) and nn.is_tensor(data[2]) and data[1]:dim() >= 1) then
    return nil
  end
  local n = math.min(256, data[1]:size(1))
  local xs, ys = data[1]:narrow(1, 1, n), data[2]:narrow(1, 1, n)
  local a, next_at = {}, 0
  function a.due() return now() >= next_at end
  function a.show(step)
    local t0 = now()
    local ok, deg = pcall(rule.angles, rule, xs, ys)
    if not ok or type(deg) ~= "table" then
      if progress then print("nn.fit: the live view shows no angles: " .. tostring(deg)) end
      next_at = math.huge
      return
    end
    local names = {}
    for name in pairs(deg) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      if type(deg[name]) == "number" then v:angles(name == "" and "model" or name, step, deg[name]) end
    end
    next_at = now() + math.max(19 * (now() - t0), 0.05)
  end
  return a
end

function viz.fit_hooks(model, opts, data)
  local fname = "viz.fit_hooks"
  check_model(fname, model)
  if type(opts) ~= "table" then fail(fname, "options must be a table, got %s", type(opts)) end
  local cfg = type(opts.viz) == "table" and opts.viz or {}
  check_options(fname, cfg, FIT_OPTIONS)
  local every = check_every(fname, cfg.every, false)
  local save_every = cfg.save_every or 5
  if type(save_every) ~= "number" or not (save_every > 0) then
    fail(fname, "save_every must be a number of seconds > 0, got %s", tostring(save_every))
  end
  local path = cfg.path or opts.viz_path or "relua-fit.png"
  if type(path) ~= "string" then fail(fname, "path must be a string, got %s", type(path)) end
  local part = partition_setup(fname, model, cfg, data)
  local own = cfg.view == nil -- a view opened here is closed here
  local v = cfg.view or renamed(fname, viz.open, {title = cfg.title or "nn.fit",
    width = cfg.width or 1100, height = cfg.height or 640, headless = cfg.headless,
    backend = cfg.backend, rows = cfg.rows, keys = true})
  viz.last_view = v
  local offscreen = v.backend == "offscreen"
  if offscreen and opts.progress ~= false then
    print(string.format("nn.fit: no display: the live view is saved to %s every %g s", path,
      save_every))
  end
  local watcher = #probed_modules(model) > 0 and v:watch(model, {every = false}) or nil
  local angles = angles_setup(v, opts, data, opts.progress ~= false)

  local hooks, step, on, first_epoch = {view = v}, 0, true, nil
  local last_save, next_partition, next_update = now(), 0, 0

  -- The partition after `step`; unless told every how many steps, no sooner than 19 times
  -- its cost after the last, so that it takes at most 5% of the run.
  -- A model that takes no (N, 2) input after all (a recurrent one, say) goes on training
  -- without the partition.
  local function show_partition()
    local t0 = now()
    part.title = string.format(part.plane and "ReLU partition, plane of 3 inputs, step %d"
      or "ReLU partition, step %d", step)
    local ok, err = pcall(draw_partition, v, model, part)
    if not ok then
      if opts.progress ~= false then
        print("nn.fit: the live view shows no partition: " .. tostring(err))
      end
      part = nil
      return
    end
    next_partition = now() + math.max(19 * (now() - t0), 0.05)
  end

  local function stop()
    on = false
    if watcher then watcher:remove() end
  end

  function hooks.on_step(info)
    if not on then return end
    step = (info.epoch - 1) * info.steps + info.step
    first_epoch = first_epoch or info.epoch
    v:plot("train", step, info.loss)
    every = every or math.max(1, info.steps // 25)
    if watcher and step % every == 0 then watcher:column(step) end
    if angles and (step == 1 or angles.due()) then angles.show(step) end
    if offscreen then -- drawn only to be saved
      if now() - last_save >= save_every then
        if part and now() >= next_partition then show_partition() end
        v:save(path)
        last_save = now()
      end
      return
    end
    if part then
      local due
      if part.every then due = step % part.every == 0 else due = now() >= next_partition end
      if due then show_partition() end
    end
    -- the window's (or the terminal's) events and redraws: v:update costs tens of
    -- microseconds even when it draws nothing, so a fast loop calls it 60 times a second
    local t = now()
    if t >= next_update then
      next_update = t + 1 / 60
      v:update()
    end
    while v.paused do v:wait() end
    if v.closed then stop() end -- q: training goes on, without the view
  end

  function hooks.on_epoch(info)
    if not on then return end
    if info.epoch == first_epoch then -- after train's: the legend lists the series in order
      v:smoothing(0, "val") -- a point an epoch, each over the whole set: nothing to smooth
      v:smoothing(0, "val accuracy")
      v:right_axis("val accuracy", "accuracy") -- in [0, 1], beside a loss of any scale
    end
    if info.val_loss then v:plot("val", step, info.val_loss) end
    if info.val_acc then v:plot("val accuracy", step, info.val_acc) end
  end

  function hooks.close()
    if not on then return end
    stop()
    if watcher and watcher.pending > 0 then watcher:column(step) end
    if angles then angles.show(step) end
    if part then show_partition() end
    -- the last state, drawn now; the terminal is left as it was, the view below the log
    if offscreen then
      v:save(path)
    elseif own and v.backend == "terminal" then
      v:close()
    else
      v:linger(0)
    end
  end

  return hooks
end

-- ---- docs, in the table help reads (viz._docs, shared with nn) ----

local function document(entries) require("nn").document("Live view", entries) end

document({
  {"watch", View.watch, "v:watch(model [, {every=1, probe, train_only=true}]) -> watcher",
    "Hooks the model's rectifier modules (nn.stats.rectifiers, or opts.probe(name, m)) and "
      .. "feeds the sparsity panel from the activations training computes anyway: every "
      .. "`every` training forwards (every = false: only at watcher:column(step)) a column with "
      .. "each layer's fraction of zeros since the last column and its dead units, those "
      .. "> 0 on no sample since the last column. watcher:remove() takes the hooks off; "
      .. "watcher.forwards and watcher.columns count."},
  {"watcher:column", Watcher.column, "watcher:column([step]) -> added",
    "Adds a sparsity column now from what was measured since the last one (x = step, or "
      .. "the count of forwards watched); false when nothing was."},
  {"watcher:remove", Watcher.remove, "watcher:remove()",
    "Removes the hooks of v:watch; the columns drawn stay."},
  {"partition", View.partition,
    "v:partition(model, {xlim, ylim, res=128 | plane = {x0, x1, x2}, points, labels, title, "
      .. "every, exact=true}) -> count [, handle]",
    "Draws the model's linear regions on a res x res grid (nn.stats.regions: no grad, eval "
      .. "mode, modes restored) with the region count (exact where the model is piecewise "
      .. "linear: {exact = true}; exact = false counts the grid's), the decision boundary (argmax of the "
      .. "output on the same sweep) and the labeled points; with plane, the plane through "
      .. "three inputs (points are inputs, projected onto it). every = N redraws it after "
      .. "every N training forwards, until handle.remove()."},
  {"fit_hooks", viz.fit_hooks,
    "viz.fit_hooks(model, opts [, {x, y}]) -> {on_step, on_epoch, close, view}",
    "The live view of nn.fit(model, {x, y}, {viz = true | {...}}) (nn.fit calls it), in a "
      .. "window, the terminal or offscreen as viz.open chooses (backend, rows to say): the train "
      .. "loss per step and the val loss and accuracy per epoch; the sparsity of every "
      .. "rectifier (v:watch), a column every `every` steps (steps per epoch / 25) with the dead "
      .. "units of those steps; the partition, for a 2-D input (first Linear with in = 2) with "
      .. "the training points (or points, labels; xlim, ylim, res=128), or for plane = {x0, x1, "
      .. "x2} (extent, labels of the three), redrawn every partition_every steps or, unless "
      .. "told, within 5% of the run. Key p pauses training, q closes the window and training "
      .. "goes on (in the terminal too, when standard input is one). With opts.rule (a learning rule with rule:angles), a panel of its own shows "
      .. "the angle of the rule's update to the true gradient per layer, over training (on the "
      .. "first 256 training rows, within 5% of the run). Offscreen (no display and no terminal, or headless = true) the view is saved to path (opts.viz_path, "
      .. "relua-fit.png) every save_every (5) seconds and at the end. Also: title, width, "
      .. "height, view (draw into this one). viz.last_view keeps the view."},
})

return viz
