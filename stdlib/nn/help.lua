-- stdlib/nn/help.lua: help(x) prints the documentation of nn's functions and methods.
--
-- The docs are data, registered next to the code: C functions through lnn_register
-- (nn/lua/ldoc.c), Lua functions through nn.document. Both write the table nn._docs:
--   byfn[f] = {name, fname, sig, doc, topic, fn, where}; topics = {...}; bytopic[topic] = {...}
-- help.text(x) returns what help(x) prints.
local nn = require "nn"

local docs = nn._docs
local M = {}

local WIDTH = 80

-- "nn.zeros" or "x:view": how an entry is called, from its signature
local function call_name(e)
  return e.sig:match("^([%w_%.:]+)") or e.name
end

-- text cut into lines of at most WIDTH characters, each starting with indent
local function wrap(out, text, indent)
  local line = indent
  for word in text:gmatch("%S+") do
    if #line + #word + 1 > WIDTH and line ~= indent then
      out[#out + 1] = line
      line = indent
    end
    line = line .. (line == indent and "" or " ") .. word
  end
  if line ~= indent then out[#out + 1] = line end
end

local function entry_text(out, e, indent)
  out[#out + 1] = indent .. e.sig
  wrap(out, e.doc, indent .. "    ")
  if e.where == "both" and e.sig:match("^x:") then
    out[#out + 1] = indent .. "    (also nn." .. e.name .. "(x, ...))"
  end
end

-- the call names of a topic's entries, "x:add" and "x:add_" shown as "x:add[_]"
local function names_of(list, only_methods)
  local names, i = {}, 1
  while i <= #list do
    local n = call_name(list[i])
    local nxt = list[i + 1] and call_name(list[i + 1])
    if not only_methods or n:match("^x:") then
      if nxt == n .. "_" then
        names[#names + 1] = n .. "[_]"
        i = i + 1
      else
        names[#names + 1] = n
      end
    end
    i = i + 1
  end
  return names
end

local function topic_summary(out, topic, only_methods)
  local names = names_of(docs.bytopic[topic], only_methods)
  if #names == 0 then return end
  out[#out + 1] = topic .. ":"
  wrap(out, table.concat(names, ", "), "  ")
end

-- entries whose name is q, or ends in q (help "SGD" finds "optim.SGD"), or whose
-- call name is q ("nn.zeros", "x:view")
local function find_by_name(q)
  local bare = q:gsub("^nn%.", ""):gsub("^%w+:", "")
  local found = {}
  for _, topic in ipairs(docs.topics) do
    for _, e in ipairs(docs.bytopic[topic]) do
      local n = e.name
      if n == bare or call_name(e) == q or n:match("[%.:]([%w_]+)$") == bare then
        found[#found + 1] = e
      end
    end
  end
  return found
end

local INTRO = [[
relua: tensors, autograd and neural nets in Lua. nn holds everything.
  help(nn)            every function and method, by topic
  help("Creation")    one topic in full
  help(nn.zeros)      one function; help("matmul") finds it by name
  help(x)             the methods of a tensor x
Dims and indices are 1-based (negative counts from the end); sizes are varargs or a
table: nn.zeros(2, 3) equals nn.zeros{2, 3}. Names ending in _ work in place.]]

local function table_text(out, t)
  if t == nn then
    for _, topic in ipairs(docs.topics) do topic_summary(out, topic) end
    out[#out + 1] = 'help("topic") shows a topic in full; help(f) or help("name") one function.'
    return
  end
  local found = {}
  for _, v in pairs(t) do
    local e = docs.byfn[v]
    if e and e.sig then found[#found + 1] = e end
  end
  table.sort(found, function(a, b) return a.name < b.name end)
  for _, e in ipairs(found) do entry_text(out, e, "") end
  if #found == 0 then out[#out + 1] = "no documentation for this table" end
end

-- an instance (a module) is documented by its class, its metatable
local function entry_of(x)
  local e = docs.byfn[x]
  if not e and type(x) == "table" and getmetatable(x) then e = docs.byfn[getmetatable(x)] end
  return e
end

-- The public methods of a module class (or of an instance's class), through the chain of
-- classes up to nn.Module: names not starting with _, sorted; nil for anything else.
local function module_methods(x)
  if type(x) ~= "table" then return nil end
  local cls = rawget(x, "__index") == x and x or getmetatable(x)
  if type(cls) ~= "table" or rawget(cls, "__index") ~= cls then return nil end
  -- init and extend are the class's own business, not calls made on a module
  local names, seen, is_module = {}, {init = true, extend = true, is_module = true}, false
  while type(cls) == "table" do
    is_module = is_module or cls == nn.Module
    for k, v in pairs(cls) do
      if type(k) == "string" and type(v) == "function" and k:sub(1, 1) ~= "_" and not seen[k] then
        seen[k] = true
        names[#names + 1] = k
      end
    end
    local mt = getmetatable(cls)
    cls = mt and mt.__index
  end
  if not is_module then return nil end
  table.sort(names)
  return names
end

function M.text(x)
  local out = {}
  local e = entry_of(x)
  local methods = module_methods(x)
  if x == nil then
    out[1] = INTRO
  elseif e and e.sig then
    entry_text(out, e, "")
    if methods then wrap(out, "methods: m:" .. table.concat(methods, ", m:"), "    ") end
  elseif methods then
    out[1] = "a module; methods: m:" .. table.concat(methods, ", m:")
  elseif nn.is_tensor(x) then
    for _, topic in ipairs(docs.topics) do topic_summary(out, topic, true) end
  elseif type(x) == "table" then
    table_text(out, x)
  elseif type(x) == "string" and docs.bytopic[x] then
    out[1] = x .. ":"
    for _, entry in ipairs(docs.bytopic[x]) do entry_text(out, entry, "  ") end
  elseif type(x) == "string" then
    local found = find_by_name(x)
    if #found == 0 and pcall(require, "viz") then -- viz loads lazily, its docs with it
      if docs.bytopic[x] then return M.text(x) end
      found = find_by_name(x)
    end
    for _, e in ipairs(found) do entry_text(out, e, "") end
    if #out == 0 then out[1] = "no help for '" .. x .. "' (help(nn) lists everything)" end
  else
    out[1] = "no documentation for this " .. type(x)
  end
  return table.concat(out, "\n")
end

function M.help(x)
  print(M.text(x))
end

-- Registers docs for Lua functions: entries are {name, fn, sig, doc}, as lnn_reg in C.
-- Registering a name again in a topic replaces its entry (a module loaded twice).
function M.document(topic, entries)
  local list = docs.bytopic[topic]
  if not list then
    list = {}
    docs.bytopic[topic] = list
    docs.topics[#docs.topics + 1] = topic
  end
  for _, item in ipairs(entries) do
    local e = {
      name = item[1], fn = item[2], sig = item[3], doc = item[4], topic = topic,
      fname = type(item[3]) == "string" and item[3]:match("^[^({ ]+") or "nn." .. item[1],
    }
    assert(type(e.name) == "string" and e.fn ~= nil and type(e.sig) == "string"
      and type(e.doc) == "string", "nn.document: entries are {name, fn, sig, doc}")
    docs.byfn[e.fn] = e
    local at = #list + 1
    for i, old in ipairs(list) do
      if old.name == e.name then at = i end
    end
    list[at] = e
  end
end

M.document("Help", {
  {"help", M.help, "nn.help([x])",
    "Prints the documentation of x: a function, a name, a topic, a tensor or nn itself."},
  {"document", M.document, "nn.document(topic, {{name, fn, sig, doc}, ...})",
    "Registers the docs of Lua functions so that help finds them."},
})

return M
