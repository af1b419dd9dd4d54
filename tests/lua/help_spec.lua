-- tests/lua/help_spec.lua: every registered function has docs that help prints.
local help = require "nn.help"

-- what nn.help(...) prints
local function capture(f, ...)
  assert(f == nn.help)
  return help.text(...)
end

describe("help", function()
  it("documents every function of nn and every tensor method", function()
    for name, f in pairs(nn) do
      if type(f) == "function" then
        local e = nn._docs.byfn[f]
        assert(e and e.sig and e.doc, "nn." .. name .. " has no docs")
      end
    end
    local mt = getmetatable(nn.ones(1))
    local x = nn.ones(1)
    for _, topic in ipairs(nn._docs.topics) do
      for _, e in ipairs(nn._docs.bytopic[topic]) do
        assert.equal("string", type(e.sig))
        assert.equal("string", type(e.doc))
        assert.truthy(#e.doc >= 8, e.name .. ": a sentence, please")
      end
    end
    for _, name in ipairs{"view", "sum", "add_", "relu_", "matmul", "gather", "float"} do
      assert.truthy(nn._docs.byfn[x[name]], name)
    end
    assert.equal("string", type(mt.__name))
  end)
  it("lists a module's public methods, for the class and an instance", function()
    local s = capture(nn.help, nn.Sequential(nn.Linear(2, 2)))
    assert.truthy(s:find("nn.Sequential(", 1, true))
    assert.truthy(s:find("m:parameters", 1, true))
    assert.truthy(s:find("m:add", 1, true))
    assert.is_nil(s:find("m:_", 1, true))
    assert.is_nil(s:find("m:init", 1, true))
    local Mine = nn.Module:extend("HelpMine")
    function Mine:forward(x) return x end
    function Mine:_private() end
    function Mine:probe() end
    local t = capture(nn.help, Mine())
    assert.truthy(t:find("m:probe", 1, true))
    assert.is_nil(t:find("_private", 1, true))
    assert.truthy(capture(nn.help, nn.Module.extend):find("nn.Module:extend(name) -> class", 1, true))
  end)
  it("prints a function's signature and sentence", function()
    local s = capture(nn.help, nn.zeros)
    assert.truthy(s:find("nn.zeros(...)", 1, true))
    assert.truthy(s:find("zeros", 1, true))
    assert.truthy(capture(nn.help, nn.ones(1).matmul):find("matmul", 1, true))
  end)
  it("finds names and topics", function()
    assert.truthy(capture(nn.help, "matmul"):find("nn.matmul(a, b)", 1, true))
    assert.truthy(capture(nn.help, "x:view"):find("x:view(...)", 1, true))
    assert.truthy(capture(nn.help, "Views"):find("x:narrow(d, start, len)", 1, true))
    assert.truthy(capture(nn.help, "no_such_thing"):find("no help", 1, true))
  end)
  it("lists everything by topic, and a tensor's methods", function()
    local s = capture(nn.help, nn)
    for _, topic in ipairs{"Creation", "Views", "Reductions", "Linear algebra"} do
      assert.truthy(s:find(topic, 1, true), topic)
    end
    assert.truthy(capture(nn.help, nn.ones(1)):find("x:sum", 1, true))
    assert.truthy(capture(nn.help):find("help(nn)", 1, true))
  end)
  it("lets Lua code document its functions", function()
    local function twice(x) return 2 * x end
    nn.document("Testing", {{"twice", twice, "twice(x) -> tensor", "Doubles x, for a test."}})
    assert.truthy(capture(nn.help, twice):find("Doubles x", 1, true))
    assert.truthy(capture(nn.help, "twice"):find("twice(x)", 1, true))
  end)
  it("names the function in errors however it is called", function()
    local x = nn.ones(2)
    local add = x.add
    th.fails(function() return add(x, "a") end, "nn.add:")
    th.fails(function() return x + "a" end, "nn.add:")
    th.fails(function() return nn.add(x, "a") end, "nn.add:")
  end)
end)
