-- stdlib/nn/module.lua: nn.Module, the base class of every layer.
--
-- A module is a Lua table whose class is its metatable. It keeps three registries of names,
-- filled when a field is first assigned (the class's __newindex sees it):
--   _params   fields holding tensors made by self:parameter(t)
--   _buffers  fields holding tensors made by self:buffer(t) (saved, never trained)
--   _children {key =, name =} of fields holding modules; name is the state-dict prefix
--             (Sequential keeps its children at self[1], self[2] under the names "0", "1")
-- The registries hold names, not tensors: the values are read from the fields, so replacing
-- a tensor (m:float()) or setting a field to nil (no bias) needs no bookkeeping.
local nn = require "nn"

local Module = {__name = "Module"}
Module.__index = Module

-- tensors made by parameter()/buffer(), so that assigning them to a field registers them
local made = setmetatable({}, {__mode = "k"})

local function fail(fname, fmt, ...)
  error(fname .. ": " .. string.format(fmt, ...), 0)
end

local function is_module(v)
  return type(v) == "table" and rawget(v, "_children") ~= nil
end

local function shape_str(t)
  return "{" .. table.concat(t:shape(), ",") .. "}"
end

local function join(prefix, name)
  return prefix == "" and name or prefix .. "." .. name
end

local function add_name(list, name)
  for _, n in ipairs(list) do
    if n == name then return end
  end
  list[#list + 1] = name
end

-- ---- classes ----

local function construct(cls, ...)
  local self = setmetatable({_params = {}, _buffers = {}, _children = {}, training = true}, cls)
  self:init(...)
  return self
end

-- m.forward(x) for m:forward(x) runs forward with x as self: a class's forward is wrapped
-- (when the class defines it) so that the mistake is named instead of failing inside.
-- The layers of the stdlib (files next to this one) take a tensor first, unless their class
-- says any_input (Sequential, Identity): m(5) is named instead of failing inside forward.
local stdlib_dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])[^/\\]*$")

local function from_stdlib(f)
  local src = debug.getinfo(f, "S").source
  return stdlib_dir ~= nil and src:sub(2, #stdlib_dir + 1) == stdlib_dir
end

local function checked_forward(cls, f)
  local tensor_first = from_stdlib(f)
  return function(self, ...)
    if not is_module(self) then
      fail(cls.__name .. ".forward", "called with a %s as self (use m:forward(x) or m(x), "
        .. "with a colon)", nn.is_tensor(self) and "tensor" or type(self))
    end
    if tensor_first and not nn.is_tensor((...)) and not self.any_input then
      fail("nn." .. self.__name, "expected a tensor as input, got %s", select("#", ...) == 0
        and "nothing" or type((...)) .. " (" .. tostring((...)) .. ")")
    end
    return f(self, ...)
  end
end

local function define(cls, k, v)
  if k == "forward" and type(v) == "function" then v = checked_forward(cls, v) end
  rawset(cls, k, v)
end

-- Metamethods are looked up raw in the metatable, so every class carries its own copies.
function Module:extend(name)
  if type(name) ~= "string" then
    fail("nn.Module:extend", "the class needs a name (a string), got %s", type(name))
  end
  local cls = {}
  for k, v in pairs(self) do
    if type(k) == "string" and k:sub(1, 2) == "__" then cls[k] = v end
  end
  cls.__index, cls.__name = cls, name
  return setmetatable(cls, {__index = self, __call = construct, __newindex = define,
    __tostring = function() return "nn." .. name end})
end

setmetatable(Module, {__call = construct, __tostring = function() return "nn.Module" end})

function Module:init() end

function Module:forward()
  fail("nn." .. self.__name, "forward is not defined (write %s:forward(x))", self.__name)
end

function Module:__call(...)
  local hooks = rawget(self, "_forward_hooks")
  if not hooks then return self:forward(...) end
  local input = ...
  local out = table.pack(self:forward(...))
  for _, h in ipairs({table.unpack(hooks)}) do -- a copy: a hook may remove itself
    local r = h[1](self, input, out[1])
    if r ~= nil then out[1] = r end
  end
  return table.unpack(out, 1, out.n)
end

-- Forward hooks, as PyTorch's: fn(module, input, output) runs after every m(x), with the
-- first argument and the first result; a hook that returns a value replaces the output.
-- The list is a raw field, so that modules without hooks pay one rawget per call.
function Module:register_forward_hook(fn)
  if type(fn) ~= "function" then
    fail("register_forward_hook", "expected a function, got %s", type(fn))
  end
  local hooks = rawget(self, "_forward_hooks")
  if not hooks then
    hooks = {}
    rawset(self, "_forward_hooks", hooks)
  end
  local entry = {fn}
  hooks[#hooks + 1] = entry
  local handle = {}
  function handle.remove()
    for i, h in ipairs(hooks) do
      if h == entry then table.remove(hooks, i) break end
    end
    if #hooks == 0 and rawget(self, "_forward_hooks") == hooks then
      rawset(self, "_forward_hooks", nil)
    end
  end
  return handle
end

-- A plain table of modules in a field (self.layers = {nn.Linear(2, 2), ...}) becomes a
-- container, as PyTorch's ModuleList and ModuleDict: its modules are registered under
-- "layers.0", "layers.1" (list entries, 0-based as PyTorch's) or "layers.name".
local Container

local function holds_modules(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return false end
  for _, x in pairs(v) do
    if is_module(x) then return true end
  end
  return false
end

local function as_container(t)
  local entries = {}
  for k, x in pairs(t) do entries[#entries + 1] = {k, x} end
  table.sort(entries, function(a, b)
    if type(a[1]) ~= type(b[1]) then return type(a[1]) == "number" end
    return a[1] < b[1]
  end)
  for _, e in ipairs(entries) do t[e[1]] = nil end
  rawset(t, "_params", {}) rawset(t, "_buffers", {}) rawset(t, "_children", {})
  rawset(t, "training", true)
  setmetatable(t, Container)
  for _, e in ipairs(entries) do t[e[1]] = e[2] end
  return t
end

function Module:__newindex(k, v)
  if type(k) == "string" then
    if made[v] == "parameter" then
      add_name(self._params, k)
    elseif made[v] == "buffer" then
      add_name(self._buffers, k)
    elseif is_module(v) then
      self:add_module(k, v)
    elseif holds_modules(v) then
      self:add_module(k, as_container(v))
    elseif nn.is_tensor(v) and v.requires_grad and v.is_leaf then
      add_name(self._params, k) -- a tensor that requires grad is trained, as a parameter
    end
  end
  rawset(self, k, v)
end

-- ---- registration ----

function Module:parameter(t)
  if not nn.is_tensor(t) then fail("parameter", "expected a tensor, got %s", type(t)) end
  t = t:requires_grad_(true)
  made[t] = "parameter"
  return t
end

function Module:buffer(t)
  if not nn.is_tensor(t) then fail("buffer", "expected a tensor, got %s", type(t)) end
  made[t] = "buffer"
  return t
end

-- whether target is m or one of its descendants
local function contains(m, target, seen)
  if m == target then return true end
  if seen[m] then return false end
  seen[m] = true
  for _, c in ipairs(m._children) do
    local child = rawget(m, c.key)
    if is_module(child) and contains(child, target, seen) then return true end
  end
  return false
end

function Module:add_module(name, m, key)
  if type(name) ~= "string" then
    fail("add_module", "the name must be a string, got %s (%s)", type(name), tostring(name))
  end
  if not is_module(m) then fail("add_module", "%s is a %s, not a module", name, type(m)) end
  if contains(m, self, {}) then
    fail("nn." .. self.__name, "cannot add %s as child '%s': the module would contain itself",
      m == self and "the module itself" or ("a " .. m.__name .. " that contains it"), name)
  end
  key = key == nil and name or key
  for _, c in ipairs(self._children) do
    if c.key == key then
      rawset(self, key, m)
      return m
    end
  end
  self._children[#self._children + 1] = {key = key, name = name}
  rawset(self, key, m)
  return m
end

-- ---- walking the tree ----

-- {prefix, module} for self and every descendant, parents first (PyTorch's order)
local function walk(m, prefix, out)
  out[#out + 1] = {prefix, m}
  for _, c in ipairs(m._children) do
    local child = rawget(m, c.key)
    if child then walk(child, join(prefix, c.name), out) end
  end
  return out
end

-- the tensor in field n of module mod (a parameter or buffer), or nil: another value put
-- there (m.weight = 5) is named here rather than failing later inside an optimizer
local function field_tensor(mod, n, kind)
  local t = rawget(mod, n)
  if t ~= nil and not nn.is_tensor(t) then
    fail("nn." .. mod.__name, "%s '%s' holds a %s (%s), expected a tensor or nil", kind, n,
      type(t), tostring(t))
  end
  return t
end

-- {name, tensor} of every parameter (and buffer when with_buffers), each module's parameters
-- then its buffers, then its children's: the order of PyTorch's state_dict
local function named_tensors(m, with_buffers, unique)
  local out, seen = {}, {}
  local function add(name, t)
    if t == nil or (unique and seen[t]) then return end
    seen[t] = true
    out[#out + 1] = {name, t}
  end
  for _, e in ipairs(walk(m, "", {})) do
    local prefix, mod = e[1], e[2]
    for _, n in ipairs(mod._params) do add(join(prefix, n), field_tensor(mod, n, "parameter")) end
    if with_buffers then
      for _, n in ipairs(mod._buffers) do add(join(prefix, n), field_tensor(mod, n, "buffer")) end
    end
  end
  return out
end
Module._named_state = function(m) return named_tensors(m, true, false) end

local function iterate(list)
  local i = 0
  return function()
    i = i + 1
    local e = list[i]
    if e then return e[1], e[2] end
  end
end

function Module:parameters()
  local list = {}
  for i, e in ipairs(named_tensors(self, false, true)) do list[i] = e[2] end
  return list
end

function Module:named_parameters()
  return iterate(named_tensors(self, false, true))
end

function Module:children()
  local list = {}
  for _, c in ipairs(self._children) do list[#list + 1] = rawget(self, c.key) end
  return list
end

function Module:named_children()
  local list = {}
  for _, c in ipairs(self._children) do list[#list + 1] = {c.name, rawget(self, c.key)} end
  return iterate(list)
end

function Module:modules()
  local list = {}
  for i, e in ipairs(walk(self, "", {})) do list[i] = e[2] end
  return list
end

function Module:named_modules()
  return iterate(walk(self, "", {}))
end

function Module:num_params()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

-- ---- modes and gradients ----

function Module:train(mode)
  if mode == nil then mode = true end
  if type(mode) ~= "boolean" then
    fail("nn." .. self.__name .. ":train", "mode must be true or false, got %s (%s)", type(mode),
      tostring(mode))
  end
  for _, e in ipairs(walk(self, "", {})) do rawset(e[2], "training", mode and true or false) end
  return self
end

function Module:eval()
  return self:train(false)
end

function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

-- ---- state dicts ----

-- detached tensors that share storage with the model's, as PyTorch's: sd[k]:copy_(t) sets
-- the parameter
function Module:state_dict()
  local sd = {}
  for _, e in ipairs(named_tensors(self, true, false)) do sd[e[1]] = e[2]:detach() end
  return sd
end

-- what is wrong with sd for this model: lists of missing and unexpected keys, and mismatches
local function compare_state(own, sd)
  local missing, unexpected, bad, known = {}, {}, {}, {}
  for _, e in ipairs(own) do
    local name, t = e[1], e[2]
    local src = sd[name]
    known[name] = true
    if src == nil then
      missing[#missing + 1] = name
    elseif not nn.is_tensor(src) then
      bad[#bad + 1] = string.format("%s is a %s, not a tensor", name, type(src))
    elseif shape_str(src) ~= shape_str(t) then
      bad[#bad + 1] = string.format("shape mismatch for %s: %s in the file vs %s in the model",
        name, shape_str(src), shape_str(t))
    end
  end
  for k in pairs(sd) do
    if not known[k] then unexpected[#unexpected + 1] = tostring(k) end
  end
  table.sort(unexpected)
  return missing, unexpected, bad
end

-- Copies the tensors of sd into the model's (in place, converting dtypes). Shape mismatches
-- are errors; missing and unexpected keys too when strict (the default), else they are
-- returned. Nothing is copied when there is an error.
function Module:load_state_dict(sd, strict)
  if type(sd) ~= "table" then fail("load_state_dict", "expected a table, got %s", type(sd)) end
  if strict == nil then strict = true end
  if type(strict) ~= "boolean" then
    fail("load_state_dict", "strict must be true or false, got %s (%s)", type(strict),
      tostring(strict))
  end
  local own = named_tensors(self, true, false)
  local missing, unexpected, bad = compare_state(own, sd)
  local problems = {}
  if strict and #missing > 0 then
    problems[#problems + 1] = "missing keys: " .. table.concat(missing, ", ")
  end
  if strict and #unexpected > 0 then
    problems[#problems + 1] = "unexpected keys: " .. table.concat(unexpected, ", ")
  end
  table.move(bad, 1, #bad, #problems + 1, problems)
  if #problems > 0 then fail("load_state_dict", "%s", table.concat(problems, "; ")) end
  nn.no_grad(function()
    for _, e in ipairs(own) do
      if sd[e[1]] ~= nil then e[2]:copy_(sd[e[1]]) end
    end
  end)
  return missing, unexpected
end

-- ---- dtypes ----

local function is_float(t)
  local d = t:dtype()
  return d == "f32" or d == "f64"
end

-- Replaces float parameters and buffers by converted copies (an optimizer made before holds
-- the old tensors: make it after).
function Module:to(dtype)
  if dtype ~= "f32" and dtype ~= "f64" then
    fail("nn." .. self.__name .. ":to", "a module converts to a float dtype (f32 or f64), not %s",
      tostring(dtype))
  end
  for _, e in ipairs(walk(self, "", {})) do
    local m = e[2]
    for _, n in ipairs(m._params) do
      local t = field_tensor(m, n, "parameter")
      if t and t:dtype() ~= dtype then
        local q = t:detach():to(dtype)
        if t.requires_grad then q:requires_grad_(true) end
        made[q] = "parameter"
        rawset(m, n, q)
      end
    end
    for _, n in ipairs(m._buffers) do
      local t = field_tensor(m, n, "buffer")
      if t and is_float(t) and t:dtype() ~= dtype then
        local q = t:to(dtype)
        made[q] = "buffer"
        rawset(m, n, q)
      end
    end
  end
  return self
end

function Module:float() return self:to("f32") end
function Module:double() return self:to("f64") end

-- ---- printing ----

-- the part inside the parentheses; by default the shapes of the module's own parameters
function Module:extra_repr()
  local parts = {}
  for _, n in ipairs(self._params) do
    local t = rawget(self, n)
    if t then parts[#parts + 1] = n .. "=" .. shape_str(t) end
  end
  return table.concat(parts, ", ")
end

local function repr(m, indent)
  local extra = m:extra_repr()
  if #m._children == 0 then return m.__name .. "(" .. extra .. ")" end
  local lines = {m.__name .. "("}
  local inner = indent .. "  "
  if extra ~= "" then lines[#lines + 1] = inner .. extra end
  for _, c in ipairs(m._children) do
    local child = rawget(m, c.key)
    if child then lines[#lines + 1] = inner .. "(" .. c.name .. "): " .. repr(child, inner) end
  end
  lines[#lines + 1] = indent .. ")"
  return table.concat(lines, "\n")
end

function Module:__tostring()
  return repr(self, "")
end

Module.is_module = is_module

-- the class of plain tables of modules, made containers by as_container
Container = Module:extend("ModuleList")
function Container:__newindex(k, v)
  if math.type(k) == "integer" and is_module(v) then
    self:add_module(tostring(k - 1), v, k)
  elseif type(k) == "string" and k:sub(1, 1) ~= "_" and is_module(v) then
    self:add_module(k, v)
  else
    Module.__newindex(self, k, v)
  end
end
function Container:forward()
  fail("nn.ModuleList", "a table of modules has no forward: call its entries")
end

-- m.train() for m:train(): every method names the mistake instead of failing inside
for k, f in pairs(Module) do
  if type(f) == "function" and k:sub(1, 2) ~= "__" and k ~= "extend" and k ~= "init"
      and k ~= "forward" and k ~= "is_module" and k:sub(1, 1) ~= "_" then
    Module[k] = function(self, ...)
      if not is_module(self) then
        fail("nn.Module:" .. k, "called with a %s as self (use m:%s(...), with a colon)",
          nn.is_tensor(self) and "tensor" or type(self), k)
      end
      return f(self, ...)
    end
  end
end

nn.document("Modules", {
  {"Module", Module, "nn.Module:extend(name) -> class",
    "The base of every layer: Cls = nn.Module:extend(\"Cls\"); define Cls:init(...) and "
      .. "Cls:forward(x); Cls(...) makes one, m(x) calls m:forward(x)."},
  {"Module:extend", Module.extend, "nn.Module:extend(name) -> class",
    "A new module class named name (a subclass when called on a class: Base:extend(\"Sub\")); "
      .. "define its :init(...) and :forward(x)."},
  {"Module:parameter", Module.parameter, "self.w = self:parameter(t) -> t",
    "Marks t as a trained parameter (requires_grad) so that assigning it registers it."},
  {"Module:buffer", Module.buffer, "self.b = self:buffer(t) -> t",
    "Marks t as saved state that is not trained (BatchNorm's running statistics)."},
  {"Module:add_module", Module.add_module, "m:add_module(name, child) -> child",
    "Registers a child module under name (assigning a module to a field does the same)."},
  {"Module:parameters", Module.parameters, "m:parameters() -> list",
    "Every parameter of m and its children, in registration order, shared ones once."},
  {"Module:named_parameters", Module.named_parameters, "m:named_parameters() -> iterator",
    "for name, p in m:named_parameters() do: names as in PyTorch (\"0.weight\", \"fc1.bias\")."},
  {"Module:children", Module.children, "m:children() -> list", "The direct child modules."},
  {"Module:modules", Module.modules, "m:modules() -> list", "m and all its descendants."},
  {"Module:named_modules", Module.named_modules, "m:named_modules() -> iterator",
    "for name, mod in m:named_modules() do: m itself (name \"\") and its descendants."},
  {"Module:named_children", Module.named_children, "m:named_children() -> iterator",
    "for name, child in m:named_children() do: the direct children and their names."},
  {"Module:extra_repr", Module.extra_repr, "m:extra_repr() -> string",
    "What tostring(m) shows inside the parentheses; override it in your classes."},
  {"Module:register_forward_hook", Module.register_forward_hook,
    "m:register_forward_hook(fn) -> handle",
    "fn(m, input, output) runs after each m(x) (a returned value replaces the output); "
      .. "handle:remove() takes it away."},
  {"Module:train", Module.train, "m:train([mode=true]) -> m",
    "Sets training mode (m.training) on m and its descendants (Dropout, BatchNorm)."},
  {"Module:eval", Module.eval, "m:eval() -> m", "Sets evaluation mode: m:train(false)."},
  {"Module:zero_grad", Module.zero_grad, "m:zero_grad()",
    "Sets the .grad of every parameter to nil."},
  {"Module:state_dict", Module.state_dict, "m:state_dict() -> {name = tensor}",
    "Parameters and buffers by PyTorch name; the tensors share storage with the model's."},
  {"Module:load_state_dict", Module.load_state_dict,
    "m:load_state_dict(sd [, strict=true]) -> missing, unexpected",
    "Copies sd's tensors into the model; missing/unexpected keys are errors when strict."},
  {"Module:num_params", Module.num_params, "m:num_params() -> n",
    "The number of trained numbers in m."},
  {"Module:to", Module.to, "m:to(dtype) -> m",
    "Converts float parameters and buffers to dtype (m:float(), m:double())."},
})

return Module
