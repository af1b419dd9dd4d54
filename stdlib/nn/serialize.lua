-- stdlib/nn/serialize.lua: nn.save of modules and tables of tensors (safetensors).
--
-- The file format is written in C (nn._save_tensors, atomically); this file decides what goes
-- in: a module saves its state_dict in PyTorch's order, a table its tensors sorted by name.
-- Metadata values are strings in the file: numbers and booleans are converted, lists of
-- numbers written as "[1,2,3]"; nn.meta_decode turns them back.
--
-- Any other table (training state: {model = sd, optim = opt:state_dict(), epoch = 3}) is saved
-- as a tree: its tensors under their dotted paths ("model.0.weight", PyTorch reads them), and
-- the rest of the table in the metadata key "relua.tree", in a length-prefixed notation that
-- nn.load parses (never runs): i<int>; f<float>; b0 b1 s<len>:<bytes> t<len>:<tensor name>
-- and {key value ...} for a table.
local nn = require "nn"
local Module = require "nn.module"

local S = {}

local function fail(fmt, ...)
  error("nn.save: " .. string.format(fmt, ...), 0)
end

local function num_str(v)
  if math.type(v) == "integer" then return tostring(v) end
  return string.format("%.17g", v)
end

function S.meta_encode(v)
  local kind = type(v)
  if kind == "string" then return v end
  if kind == "number" then return num_str(v) end
  if kind == "boolean" then return tostring(v) end
  if kind == "table" then
    local parts = {}
    for i, x in ipairs(v) do
      if type(x) ~= "number" then return nil end
      parts[i] = num_str(x)
    end
    return "[" .. table.concat(parts, ",") .. "]"
  end
end

-- the inverse of meta_encode, as far as strings allow: "12" -> 12, "true" -> true, "[1,2]" -> {1,2}
function S.meta_decode(s)
  if s == "true" then return true elseif s == "false" then return false end
  local n = tonumber(s)
  if n then return n end
  local inner = s:match("^%[(.*)%]$")
  if not inner then return s end
  local list = {}
  for part in inner:gmatch("[^,]+") do
    local x = tonumber(part)
    if not x then return s end
    list[#list + 1] = x
  end
  return list
end

local function metadata(meta)
  if meta == nil then return {} end
  if type(meta) ~= "table" then fail("metadata must be a table, got %s", type(meta)) end
  local out = {}
  for k, v in pairs(meta) do
    if type(k) ~= "string" then fail("metadata keys must be strings, got %s", tostring(k)) end
    local s = S.meta_encode(v)
    if not s then fail("metadata %s: cannot store a %s", k, type(v)) end
    out[k] = s
  end
  return out
end

-- names and tensors of what is saved, in the order they are written
local function entries(obj)
  local names, tensors = {}, {}
  if Module.is_module(obj) then
    for i, e in ipairs(Module._named_state(obj)) do names[i], tensors[i] = e[1], e[2] end
    return names, tensors
  end
  for k, v in pairs(obj) do
    if type(k) ~= "string" then fail("tensor names must be strings, got %s", tostring(k)) end
    if not nn.is_tensor(v) then fail("%s is a %s, not a tensor", k, type(v)) end
    names[#names + 1] = k
  end
  table.sort(names)
  for i, k in ipairs(names) do tensors[i] = obj[k] end
  return names, tensors
end

local TREE = "relua.tree"

local function flat(obj)
  if Module.is_module(obj) then return true end
  for k, v in pairs(obj) do
    if type(k) ~= "string" or not nn.is_tensor(v) then return false end
  end
  return true
end

local function float_str(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "1e999" elseif v == -math.huge then return "-1e999" end
  return string.format("%a", v)
end

-- the notation of v; its tensors are added to names/tensors under their paths
local function encode(v, path, w, seen)
  local kind = type(v)
  if nn.is_tensor(v) then
    local name = w.name_of[v]
    if not name then
      name = path
      while w.used[name] do name = name .. "_" end
      w.used[name], w.name_of[v] = true, name
      w.names[#w.names + 1], w.tensors[#w.tensors + 1] = name, v
    end
    return "t" .. #name .. ":" .. name
  elseif kind == "number" then
    if math.type(v) == "integer" then return "i" .. v .. ";" end
    return "f" .. float_str(v) .. ";"
  elseif kind == "string" then
    return "s" .. #v .. ":" .. v
  elseif kind == "boolean" then
    return v and "b1" or "b0"
  elseif kind == "table" and not Module.is_module(v) and getmetatable(v) == nil then
    if seen[v] then fail("the table at %s contains itself", path == "" and "the top" or path) end
    seen[v] = true
    local keys = {}
    for k in pairs(v) do
      if math.type(k) ~= "integer" and type(k) ~= "string" then
        fail("%s: keys must be strings or integers, got %s", path, tostring(k))
      end
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    local out = {"{"}
    for _, k in ipairs(keys) do
      local sub = path == "" and tostring(k) or path .. "." .. tostring(k)
      out[#out + 1] = encode(k, sub, w, seen) .. encode(v[k], sub, w, seen)
    end
    seen[v] = nil
    return table.concat(out) .. "}"
  end
  fail("%s is a %s: only tensors, numbers, strings, booleans and plain tables can be saved",
    path == "" and "the value" or path, Module.is_module(v) and "module (save m:state_dict())"
    or kind)
end

-- the inverse of encode on s from position i: value, next position (errors name the file)
local function decode(s, i, tensors, where, depth)
  local function bad()
    error(string.format("nn.load: %s: malformed %s at byte %d", where, TREE, i), 0)
  end
  local c = s:sub(i, i)
  if c == "i" or c == "f" then
    local j = s:find(";", i, true) or bad()
    local text = s:sub(i + 1, j - 1)
    local v = c == "i" and math.tointeger(tonumber(text))
      or (text == "nan" and 0 / 0 or tonumber(text))
    if v == nil then bad() end
    return v, j + 1
  elseif c == "b" then
    local d = s:sub(i + 1, i + 1)
    if d ~= "0" and d ~= "1" then bad() end
    return d == "1", i + 2
  elseif c == "s" or c == "t" then
    local colon = s:find(":", i, true) or bad()
    local n = math.tointeger(tonumber(s:sub(i + 1, colon - 1))) or bad()
    if n < 0 or colon + n > #s then bad() end
    local text = s:sub(colon + 1, colon + n)
    if c == "t" then
      local t = tensors[text]
      if not t then error(string.format("nn.load: %s: no tensor named %s", where, text), 0) end
      return t, colon + n + 1
    end
    return text, colon + n + 1
  elseif c == "{" then
    if depth > 100 then bad() end
    local tbl = {}
    i = i + 1
    while s:sub(i, i) ~= "}" do
      if i > #s then bad() end
      local k, v
      k, i = decode(s, i, tensors, where, depth + 1)
      if type(k) ~= "string" and math.type(k) ~= "integer" then bad() end
      v, i = decode(s, i, tensors, where, depth + 1)
      tbl[k] = v
    end
    return tbl, i + 1
  end
  bad()
end

function S.save(path, obj, meta)
  if type(path) ~= "string" then fail("the path must be a string, got %s", type(path)) end
  if type(obj) ~= "table" then
    fail("expected a module or a table of tensors, got %s", type(obj))
  end
  local md, names, tensors = metadata(meta)
  if md[TREE] then fail("the metadata key %s is nn.save's own", TREE) end
  if flat(obj) then
    names, tensors = entries(obj)
  else
    local w = {names = {}, tensors = {}, used = {}, name_of = {}}
    md[TREE] = encode(obj, "", w, {})
    names, tensors = w.names, w.tensors
  end
  require("nn.options").call_as("nn.save", nn._save_tensors, path, names, tensors, md)
end

local load_tensors = nn.load

-- nn.load(path): the table nn.save was given (a tree comes back whole), and the metadata
function S.load(path)
  local tensors, meta = load_tensors(path)
  local tree = meta[TREE]
  if tree == nil then return tensors, meta end
  meta[TREE] = nil
  local v, next = decode(tree, 1, tensors, tostring(path), 0)
  if type(v) ~= "table" or next ~= #tree + 1 then
    error(string.format("nn.load: %s: malformed %s", path, TREE), 0)
  end
  return v, meta
end

nn.document("Files", {
  {"save", S.save, "nn.save(path, module_or_table [, metadata])",
    "Writes a safetensors file atomically: a module's state_dict, a table name -> tensor, or "
    .. "any table of tensors, numbers, strings, booleans and tables (training state: {model = "
    .. "m:state_dict(), optim = opt:state_dict(), epoch = 3}), which nn.load gives back whole."},
  {"load", S.load, "nn.load(path) -> table, metadata",
    "Reads a safetensors file: its tensors by name (or the whole table nn.save was given) and "
    .. "its metadata strings (decode them with nn.meta_decode). Loading never runs code."},
  {"meta_decode", S.meta_decode, "nn.meta_decode(s) -> value",
    "Turns a metadata string of nn.save back into a number, boolean or list of numbers."},
})

return S
