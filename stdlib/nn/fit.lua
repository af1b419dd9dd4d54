-- stdlib/nn/fit.lua: nn.fit, the training loop.
--
-- nn.fit(model, {x, y}, opts) trains for opts.epochs over shuffled mini-batches, by backprop
-- with an optimizer (Adam by default) or by a learning rule (opts.rule), reports progress,
-- measures validation loss and accuracy after each epoch, and can save a checkpoint after
-- each epoch and resume from one. Ctrl-C is deferred to the end of the current batch: nn.fit
-- stops there, writes a checkpoint of that point (the position in the epoch and both random
-- states, so that resume goes on with the same batches) and returns the history so far
-- (history.interrupted = true); a second Ctrl-C interrupts at once. A kill at any moment
-- leaves the previous checkpoint loadable (files are written atomically, then renamed). A
-- loss that is not finite stops training with an error; the last checkpoint is kept.
local nn = require "nn"
local data = require "nn.data"
local serialize = require "nn.serialize"
local optim = require "nn.optim"
local options = require "nn.options"

local F = {}

local FORMAT = "relua.fit.checkpoint"

local function fail(fmt, ...)
  error("nn.fit: " .. string.format(fmt, ...), 0)
end

-- ---- options ----

local function check_data(fname, d)
  if type(d) ~= "table" or not nn.is_tensor(d[1]) or not nn.is_tensor(d[2]) then
    fail("%s must be a table {x, y} of tensors", fname)
  end
  if d[1]:dim() == 0 or d[2]:dim() == 0 or d[1]:size(1) ~= d[2]:size(1) then
    fail("%s: x has %d rows but y has %d", fname, d[1]:dim() > 0 and d[1]:size(1) or 0,
      d[2]:dim() > 0 and d[2]:size(1) or 0)
  end
  return d[1], d[2]
end

local FIT_OPTIONS = {"epochs", "batch", "loss", "optim", "lr", "rule", "schedule", "warmup",
  "val", "shuffle", "progress", "checkpoint", "resume", "on_step", "on_epoch", "viz", "viz_path",
  "distributed"}

local function callable(v)
  local mt = getmetatable(v)
  return type(v) == "function" or (mt ~= nil and mt.__call ~= nil)
end

local function check_types(opts)
  if opts.loss ~= nil and not callable(opts.loss) then
    fail("loss must be a function (e.g. nn.cross_entropy), got %s (%s)", type(opts.loss),
      tostring(opts.loss))
  end
  if opts.optim ~= nil and not (type(opts.optim) == "table" and callable(opts.optim.step)) then
    fail("optim must be an optimizer (e.g. nn.optim.Adam(model)), got %s (%s)", type(opts.optim),
      tostring(opts.optim))
  end
  for _, k in ipairs({"distributed", "progress", "shuffle"}) do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then
      fail("%s must be true or false, got %s (%s)", k, type(opts[k]), tostring(opts[k]))
    end
  end
  for _, k in ipairs({"on_step", "on_epoch"}) do
    if opts[k] ~= nil and not callable(opts[k]) then
      fail("%s must be a function(info), got %s", k, type(opts[k]))
    end
  end
  local s = opts.schedule
  if s ~= nil and type(s) ~= "string" and not (type(s) == "table" and s.step) then
    fail("schedule must be \"linear\", \"cosine\" or a schedule object such as "
      .. "nn.optim.schedule.cosine(opt, {total = n}), got a %s", type(s))
  end
  if opts.rule ~= nil and not (type(opts.rule) == "table" and callable(opts.rule.step)) then
    fail("rule must be a learning rule (nn.rules.*), got a %s", type(opts.rule))
  end
  if opts.lr ~= nil and (type(opts.lr) ~= "number" or not (opts.lr >= 0)) then
    fail("lr must be a number >= 0, got %s (%s)", type(opts.lr), tostring(opts.lr))
  end
  if opts.warmup ~= nil and opts.schedule == nil then
    fail("warmup (%s) is the warmup of a schedule: give schedule = \"linear\" or \"cosine\" too",
      tostring(opts.warmup))
  end
  if opts.viz ~= nil and type(opts.viz) ~= "boolean" and type(opts.viz) ~= "table" then
    fail("viz must be true, false or a table of options, got %s (%s)", type(opts.viz),
      tostring(opts.viz))
  end
  if opts.viz_path ~= nil and type(opts.viz_path) ~= "string" then
    fail("viz_path must be a path (a string), got %s (%s)", type(opts.viz_path),
      tostring(opts.viz_path))
  end
  if opts.lr ~= nil and opts.optim ~= nil then
    fail("lr is for the default optimizer; set it in the optimizer you pass (optim)")
  end
end

local function setup(model, opts)
  check_types(opts)
  local run = {
    epochs = opts.epochs or 1, batch = opts.batch or 128, loss = opts.loss or nn.cross_entropy,
    rule = opts.rule, shuffle = opts.shuffle ~= false, progress = opts.progress ~= false,
  }
  run.epochs = options.whole(run.epochs) or run.epochs
  run.batch = options.whole(run.batch) or run.batch
  if math.type(run.epochs) ~= "integer" or run.epochs < 0 then
    fail("epochs must be a non-negative integer, got %s", tostring(opts.epochs))
  end
  if math.type(run.batch) ~= "integer" or run.batch < 1 then
    fail("batch must be a positive integer, got %s", tostring(opts.batch))
  end
  if run.rule then
    run.optim = opts.optim or run.rule.optim
  else
    run.optim = opts.optim or optim.Adam(model, {lr = opts.lr or 1e-3})
  end
  return run
end

-- opts.schedule: a schedule object, or the name of one ("linear", "cosine") over the whole run
local function make_schedule(run, opts, n)
  local s = opts.schedule
  if type(s) ~= "string" then return s end
  if not optim.schedule[s] or s == "step" then
    fail("schedule must be \"linear\", \"cosine\" or a schedule object, not %s", s)
  end
  if not run.optim then fail("schedule %s needs an optimizer", s) end
  local per = run.dist and run.dist.steps(n, run.batch) or data.num_batches(n, run.batch, false)
  local total = math.max(1, run.epochs * per)
  return optim.schedule[s](run.optim, {total = total, warmup = opts.warmup})
end

-- ---- the live view (viz) ----

-- viz hooks {on_step, on_epoch, close} when opts.viz is set and the live view can be loaded;
-- the contract with viz is viz.fit_hooks(model, opts, {x, y}) -> such a table
local function viz_hooks(model, opts, d)
  if not opts.viz then return nil end
  local ok, viz = pcall(require, "viz")
  if not ok or type(viz) ~= "table" or type(viz.fit_hooks) ~= "function" then
    print("nn.fit: the live view (viz) is not available; training without it")
    return nil
  end
  return viz.fit_hooks(model, opts, d)
end

-- ---- progress ----

local BAR = 20

local function progress_bar(run, epoch, total_steps)
  local tty = run.progress and nn.isatty(1)
  local bar = {shown = 0, start = nn.time(), smoothed = nil, samples = 0, drawn = false}
  function bar.step(step, loss, n)
    bar.samples = bar.samples + n
    bar.smoothed = bar.smoothed and 0.98 * bar.smoothed + 0.02 * loss or loss
    local t = nn.time()
    if not tty or (t - bar.shown < 0.1 and step < total_steps) then return end
    bar.shown, bar.drawn = t, true
    local elapsed = t - bar.start
    local filled = math.floor(BAR * step / total_steps)
    local eta = elapsed / step * (total_steps - step)
    io.write(string.format("\r%s [%s%s%s] %d/%d loss %.4f %.0f samples/s ETA %.0fs\27[K",
      epoch, ("="):rep(math.max(0, filled - 1)), filled > 0 and ">" or "",
      (" "):rep(BAR - filled), step, total_steps, bar.smoothed,
      bar.samples / math.max(elapsed, 1e-9), eta))
    io.flush()
  end
  function bar.finish(line)
    if not run.progress then return end
    io.write((bar.drawn and "\r" or "") .. line .. (bar.drawn and "\27[K" or "") .. "\n")
    io.flush()
    bar.drawn = false
  end
  -- on an error (Ctrl-C), ends the half-drawn line so the message starts on its own line
  setmetatable(bar, {__close = function(_, err)
    if err and bar.drawn then io.write("\n") end
  end})
  return bar
end

local function epoch_line(label, info)
  local parts = {string.format("%s loss %.4f", label, info.train_loss)}
  if info.val_loss then parts[#parts + 1] = string.format("val_loss %.4f", info.val_loss) end
  if info.val_acc then parts[#parts + 1] = string.format("val_acc %.2f%%", 100 * info.val_acc) end
  parts[#parts + 1] = string.format("%.1fs", info.seconds)
  return table.concat(parts, " ")
end

-- ---- one epoch ----

local function backprop_step(model, run, xb, yb)
  run.optim:zero_grad()
  local loss = run.loss(model(xb), yb)
  loss:backward()
  run.optim:step()
  return loss:item()
end

-- hooks: the functions to call after each step. at: where an interrupted epoch stopped
-- ({step, total, rng_epoch}), to go on from there. Returns the mean loss, or nil and the
-- place it stopped at when a (deferred) Ctrl-C came.
local function train_epoch(model, run, x, y, epoch, hooks, at)
  model:train()
  local n, d = x:size(1), run.dist -- d: distributed (nn/dist_fit.lua), each rank its shard
  local steps = d and d.steps(n, run.batch) or data.num_batches(n, run.batch, false)
  local label = string.format("epoch %d/%d", epoch, run.epochs)
  local bar <close> = progress_bar(run, label, steps)
  local total, step, seen = 0, 0, 0
  -- the shuffle is drawn from the generator as the epoch starts: resuming draws it again
  local rng_epoch, rng_now = at and at.rng_epoch or nn.get_rng_state(), nn.get_rng_state()
  if at then nn.set_rng_state(at.rng_epoch) end
  local loader
  if d then
    loader = d.loader(x, y, run) -- draws the shuffle at its first batch
    if at then for _ = 1, at.step do loader() end end
  else
    loader = data.loader({x, y}, {batch = run.batch, shuffle = run.shuffle})
    loader:begin()
    if at then loader.start = 1 + at.step * run.batch end
  end
  if at then
    nn.set_rng_state(rng_now)
    step, total, seen = at.step, at.total, at.seen or at.step * run.batch
  end
  for xb, yb in loader do
    local loss = run.rule and run.rule:step(xb, yb) or backprop_step(model, run, xb, yb)
    if type(loss) ~= "number" then loss = loss:item() end
    step = step + 1
    if loss ~= loss or loss == math.huge or loss == -math.huge then
      fail("the loss is %s at epoch %d, step %d (training diverged: try a lower learning rate)%s",
        tostring(loss), epoch, step, run.checkpoint and string.format("; the checkpoint %s "
          .. "of the last complete epoch is kept", run.checkpoint) or "")
    end
    total, seen = total + loss * xb:size(1), seen + xb:size(1)
    bar.step(step, loss, xb:size(1))
    if run.sched then run.sched:step() end
    if #hooks > 0 then
      local info = {epoch = epoch, step = step, steps = steps, loss = loss, model = model,
        lr = run.optim and run.optim.lr}
      for _, h in ipairs(hooks) do h(info) end
    end
    if step < steps and nn._interrupt_requested() then
      return nil, bar, label, {epoch = epoch, step = step, total = total, seen = seen,
        rng_epoch = rng_epoch}
    end
  end
  return d and d.train_loss(total, seen) or total / n, bar, label
end

-- ---- validation ----

local function predict(model, run, xb)
  if run.rule and run.rule.predict then return run.rule:predict(xb) end
  return model(xb):argmax(2)
end

-- mean loss (nil with a rule) and accuracy (nil unless y holds class labels) on {x, y}
local function evaluate(model, run, x, y)
  local classes = y:dtype() == "i64"
  local loss_sum, correct = 0, 0
  local _ <close> = nn.no_grad()
  local _ <close> = setmetatable({}, {__close = function() model:train() end})
  model:eval()
  for xb, yb in data.loader({x, y}, {batch = math.max(run.batch, 1000)}) do
    if not run.rule then loss_sum = loss_sum + run.loss(model(xb), yb):item() * xb:size(1) end
    if classes then correct = correct + predict(model, run, xb):eq(yb):sum():item() end
  end
  local n = x:size(1)
  return not run.rule and loss_sum / n or nil, classes and correct / n or nil
end

-- ---- checkpoints ----

local function add_optim_state(tensors, meta, opt)
  local sd = opt:state_dict()
  for k, v in pairs(sd.param_groups[1]) do
    if k ~= "params" then meta["optim." .. k] = serialize.meta_encode(v) end
  end
  for i, st in pairs(sd.state) do
    for k, v in pairs(st) do
      local key = string.format("optim.%d.%s", i, k)
      if nn.is_tensor(v) then tensors[key] = v else meta[key] = serialize.meta_encode(v) end
    end
  end
end

-- partial: where an interrupted epoch stopped (the checkpoint then holds epoch - 1 complete)
local function save_checkpoint(path, model, run, epoch, history, partial)
  local tensors, meta = {}, {format = FORMAT, epoch = epoch}
  if partial then
    meta.epoch = partial.epoch - 1
    meta["partial.step"], meta["partial.total"] = partial.step, partial.total
    tensors.rng_epoch = partial.rng_epoch
  end
  for name, t in pairs(model:state_dict()) do tensors["model." .. name] = t end
  if run.optim then add_optim_state(tensors, meta, run.optim) end
  if run.sched then meta["sched.t"] = run.sched.t end
  tensors.rng_state = nn.get_rng_state()
  for k, list in pairs(history) do meta["history." .. k] = serialize.meta_encode(list) end
  serialize.save(path, tensors, meta)
end

-- the optimizer's state_dict rebuilt from the checkpoint's flat names
local function optim_state(tensors, meta)
  local sd = {state = {}, param_groups = {{}}}
  local function slot(i)
    sd.state[i] = sd.state[i] or {}
    return sd.state[i]
  end
  for k, v in pairs(tensors) do
    local i, field = k:match("^optim%.(%d+)%.(.+)$")
    if i then slot(tonumber(i))[field] = v end
  end
  for k, v in pairs(meta) do
    local i, field = k:match("^optim%.(%d+)%.(.+)$")
    if i then
      slot(tonumber(i))[field] = serialize.meta_decode(v)
    elseif k:match("^optim%.") then
      sd.param_groups[1][k:sub(7)] = serialize.meta_decode(v)
    end
  end
  return sd
end

-- the checkpoint's metadata checked: the epoch done and, for an interrupted epoch, where
local function checkpoint_position(path, tensors, meta)
  local epoch = math.tointeger(tonumber(meta.epoch))
  if not epoch or epoch < 0 then
    fail("%s: the checkpoint's epoch is %s, not a count of epochs", path, tostring(meta.epoch))
  end
  if meta["partial.step"] == nil then return epoch end
  local step, total = math.tointeger(tonumber(meta["partial.step"])), tonumber(meta["partial.total"])
  if not step or step < 1 or not total or not nn.is_tensor(tensors.rng_epoch) then
    fail("%s: the checkpoint of an interrupted epoch lacks its position (partial.step %s)", path,
      tostring(meta["partial.step"]))
  end
  return epoch, {step = step, total = total, rng_epoch = tensors.rng_epoch}
end

local function load_checkpoint(path, model, run, history)
  local ok, tensors, meta = pcall(nn.load, path)
  if not ok then fail("cannot resume from %s: %s", path, tostring(tensors):gsub("^nn%.load: ", "")) end
  meta = meta or {}
  if meta.format ~= FORMAT then fail("%s is not a checkpoint of nn.fit", path) end
  local done, partial = checkpoint_position(path, tensors, meta)
  local sd = {}
  for k, v in pairs(tensors) do
    local name = k:match("^model%.(.+)$")
    if name then sd[name] = v end
  end
  local loaded, err = pcall(model.load_state_dict, model, sd)
  if not loaded then fail("%s does not fit this model: %s", path, tostring(err)) end
  if run.optim then run.optim:load_state_dict(optim_state(tensors, meta)) end
  if run.sched and meta["sched.t"] then
    run.sched:load_state_dict({t = tonumber(meta["sched.t"])})
  end
  if tensors.rng_state then nn.set_rng_state(tensors.rng_state) end
  for k, v in pairs(meta) do
    local name = k:match("^history%.(.+)$")
    if name and history[name] then
      local list = serialize.meta_decode(v)
      history[name] = type(list) == "table" and list or {}
    end
  end
  return done, partial
end

-- checkpoint and resume checked before the first epoch, not after it
local function check_files(opts)
  local path = opts.checkpoint
  if path ~= nil then
    if type(path) ~= "string" then fail("checkpoint must be a path, got a %s", type(path)) end
    local probe = path .. ".tmp.0" -- a name nn.save's clean-up of temporaries never takes
    local f, err = io.open(probe, "w")
    if not f then fail("checkpoint %s cannot be written: %s", path, err) end
    f:close()
    os.remove(probe)
    f = io.open(path, "r")
    if f then
      local _, _, code = f:read(0)
      f:close()
      if code == 21 then fail("checkpoint %s is a directory", path) end
    end
  end
  local resume = opts.resume
  if resume == nil then return false end
  if type(resume) ~= "string" then fail("resume must be a path, got a %s", type(resume)) end
  if data._file_exists(resume) then return true end
  -- the usual pair, checkpoint = resume = path: the first run has nothing to resume yet
  if resume == path then return false end
  fail("resume: %s does not exist (to start afresh, leave resume out)", resume)
end

-- ---- the loop ----

-- the on_step and on_epoch functions of the tables given (opts, the live view)
local function collect_hooks(sources)
  local hooks = {step = {}, epoch = {}}
  for i = 1, 2 do
    local src = sources[i]
    if src and src.on_step then hooks.step[#hooks.step + 1] = src.on_step end
    if src and src.on_epoch then hooks.epoch[#hooks.epoch + 1] = src.on_epoch end
  end
  return hooks
end

local function run_epoch(model, run, x, y, val, epoch, hooks, history, at)
  local t0 = nn.time()
  local train_loss, bar, label, stopped = train_epoch(model, run, x, y, epoch, hooks.step, at)
  if stopped then return nil, stopped end
  local info = {epoch = epoch, train_loss = train_loss, model = model, history = history}
  if val and run.dist then
    info.val_loss, info.val_acc = run.dist.evaluate(evaluate, model, run, val[1], val[2])
  elseif val then
    info.val_loss, info.val_acc = evaluate(model, run, val[1], val[2])
  end
  info.seconds = nn.time() - t0
  history.train_loss[epoch] = train_loss
  history.val_loss[epoch] = info.val_loss
  history.val_acc[epoch] = info.val_acc
  history.seconds[epoch] = info.seconds
  bar.finish(epoch_line(label, info))
  return info
end

function F.fit(model, d, opts)
  if not nn.Module.is_module(model) then
    fail("expected a model (an nn.Module) as argument 1, got %s (%s)", type(model), tostring(model))
  end
  opts = options.check("nn.fit", opts, FIT_OPTIONS)
  local x, y = check_data("data", d)
  local val = opts.val and {check_data("val", opts.val)} or nil
  local dist = require("nn.dist_fit").setup(model, opts) -- nil unless opts.distributed
  if dist then opts = dist.opts end -- rank 1's print, checkpoint and view; not the others'
  local run = setup(model, opts)
  run.dist = dist
  run.sched = make_schedule(run, opts, x:size(1))
  local history = {train_loss = {}, val_loss = {}, val_acc = {}, seconds = {}}
  local first, at = 1, nil
  run.checkpoint = opts.checkpoint
  if check_files(opts) then
    local done
    done, at = load_checkpoint(opts.resume, model, run, history)
    first = done + 1
    if run.progress then
      print(string.format("nn.fit: resuming from %s after epoch %d%s", opts.resume, done,
        at and string.format(" and %d batches of epoch %d", at.step, first) or ""))
    end
  end
  local view = viz_hooks(model, opts, {x, y})
  -- the view closes (and takes its hooks off the model) however training ends, Ctrl-C too
  local _ <close> = setmetatable({}, {__close = function()
    if view and view.close then view.close() end
  end})
  local hooks = collect_hooks({opts, view})
  local epoch, stopped, between = first, nil, false
  local function train()
    for e = first, run.epochs do
      epoch = e
      local info
      info, stopped = run_epoch(model, run, x, y, val, e, hooks, history, e == first and at or nil)
      if opts.checkpoint then save_checkpoint(opts.checkpoint, model, run, e, history, stopped) end
      if stopped then return end
      for _, h in ipairs(hooks.epoch) do h(info) end
      if e < run.epochs and nn._interrupt_requested() then -- came in the last batch, or after
        between = true
        return
      end
    end
  end
  -- the first Ctrl-C stops after the current batch; a second one raises at once
  local deferred = nn._defer_interrupt(true)
  local _ <close> = setmetatable({}, {__close = function() nn._defer_interrupt(deferred) end})
  -- Ctrl-C is caught (the history is kept); any other error goes on with its traceback
  local interrupt = {}
  local ok, err = xpcall(train, function(e)
    if type(e) == "string" and e:match("interrupted!?$") then return interrupt end
    return debug.traceback(e, 2)
  end)
  if not ok and err ~= interrupt then error(err, 0) end
  if stopped then
    history.interrupted = true
    print(string.format("\nnn.fit: interrupted in epoch %d after %d batches%s; returning the "
      .. "history of %d complete epoch(s)", epoch, stopped.step, opts.checkpoint and
      (", saved to " .. opts.checkpoint .. " (resume goes on from there)") or "",
      #history.train_loss))
  elseif between then
    history.interrupted = true
    print(string.format("nn.fit: interrupted after epoch %d%s", epoch, opts.checkpoint and
      (", saved to " .. opts.checkpoint) or ""))
  elseif not ok then
    history.interrupted = true
    io.stdout:write("\n")
    print(string.format("nn.fit: interrupted in epoch %d; returning the history of %d "
      .. "complete epoch(s), the weights as they are", epoch, #history.train_loss))
  end
  return history
end

nn.document("Training", {
  {"fit", F.fit, "nn.fit(model, {x, y}, {epochs=1, batch=128, loss=nn.cross_entropy, optim | rule, "
      .. "schedule, val={xv, yv}, progress=true, checkpoint, resume, on_step, on_epoch, distributed})",
    "Trains model on shuffled mini-batches; returns history {train_loss, val_loss, val_acc, "
      .. "seconds}. distributed = true (under mpirun): each rank its shard of the batches, "
      .. "gradients averaged (nn.dist.DataParallel), rank 1 prints and checkpoints. "
      .. "Ctrl-C stops after the current batch, checkpoints that point and returns "
      .. "the history (history.interrupted); resume goes on from there, bit for bit. A loss "
      .. "that is not finite stops it with an error."},
})

return F
