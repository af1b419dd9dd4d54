-- stdlib/nn/serialize.lua: nn.save of modules and tables of tensors (safetensors).
--
-- The file format is written in C (nn._save_tensors, atomically); this file decides what goes
-- in: a module saves its state_dict in PyTorch's order, a table its tensors sorted by name.
-- Metadata values are strings in the file: numbers and booleans are converted, lists of
-- numbers written as "[1,2,3]"; nn.meta_decode turns them back.
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

function S.save(path, obj, meta)
  if type(path) ~= "string" then fail("the path must be a string, got %s", type(path)) end
  if type(obj) ~= "table" then
    fail("expected a module or a table of tensors, got %s", type(obj))
  end
  local names, tensors = entries(obj)
  require("nn.options").call_as("nn.save", nn._save_tensors, path, names, tensors, metadata(meta))
end

nn.document("Files", {
  {"save", S.save, "nn.save(path, module_or_table [, metadata])",
    "Writes a safetensors file atomically: a module's state_dict or a table name -> tensor."},
  {"meta_decode", S.meta_decode, "nn.meta_decode(s) -> value",
    "Turns a metadata string of nn.save back into a number, boolean or list of numbers."},
})

return S
