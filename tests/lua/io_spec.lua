-- tests/lua/io_spec.lua: files from Lua (nn/lua/lio.c): safetensors, .npy and IDX round trips,
-- malformed files, and the small utilities nn.time and nn.isatty.

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function path(name) return dir .. "/" .. name end

local function write(name, bytes)
  local f = assert(io.open(path(name), "wb"))
  f:write(bytes)
  f:close()
  return path(name)
end

local function read(name)
  local f = assert(io.open(path(name), "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- the 8-byte little-endian length, then the header
local function safetensors(header, data)
  return string.pack("<I8", #header) .. header .. (data or "")
end

teardown(function() os.execute("rm -rf " .. dir) end)

describe("safetensors", function()
  it("round-trips tensors of every dtype with metadata", function()
    local w = nn.tensor{{1.5, -2}, {3, 4}}
    local t = {
      w = w:t(), -- strided: saved as its contiguous copy
      b = nn.tensor({1, 2, 3}, "f64"),
      idx = nn.tensor({-5, 2 ^ 40}, "i64"),
      mask = nn.tensor({0, 1, 255}, "u8"),
      scalar = nn.tensor(7),
    }
    local names, list = {"w", "b", "idx", "mask", "scalar"}, {}
    for i, k in ipairs(names) do list[i] = t[k] end
    nn._save_tensors(path("a.safetensors"), names, list, {epoch = "3", note = "hi", lr = 0.5})
    local got, meta = nn.load(path("a.safetensors"))
    for _, k in ipairs(names) do
      assert.equal(t[k]:dtype(), got[k]:dtype(), k)
      assert.same(t[k]:totable(), got[k]:totable(), k)
    end
    assert.same({epoch = "3", note = "hi", lr = "0.5"}, meta)
    assert.is_false(got.w.requires_grad)
  end)

  it("writes the same bytes every time (metadata sorted) and no temporary file", function()
    local list = {nn.ones(2)}
    nn._save_tensors(path("b1.safetensors"), {"x"}, list, {z = "1", a = "2", m = "3"})
    nn._save_tensors(path("b2.safetensors"), {"x"}, list, {m = "3", z = "1", a = "2"})
    assert.equal(read("b1.safetensors"), read("b2.safetensors"))
    local p = io.popen("ls " .. dir)
    local listing = p:read("a")
    p:close()
    assert.is_nil(listing:find("tmp", 1, true))
    nn._save_tensors(path("c.safetensors"), {}, {})
    local got, meta = nn.load(path("c.safetensors"))
    assert.same({}, got)
    assert.same({}, meta)
  end)

  it("works with nn.save and modules", function()
    local m = nn.Linear(3, 2)
    nn.save(path("m.safetensors"), m, {epochs = 2})
    local sd = nn.load(path("m.safetensors"))
    assert.same(m.weight:totable(), sd.weight:totable())
    assert.same(m.bias:totable(), sd.bias:totable())
  end)

  it("saves and loads a whole training state: tensors, numbers, strings, booleans, tables", function()
    local m = nn.Sequential(nn.Linear(2, 3))
    local opt = nn.optim.Adam(m, {lr = 0.25, amsgrad = true})
    m(nn.randn(4, 2)):sum():backward()
    opt:step()
    local state = {model = m:state_dict(), optim = opt:state_dict(), epoch = 3, note = "a;b:{c}",
      lr = 0.1, big = 1 / 0, ok = false, [7] = {1.5, 2, "x"}}
    nn.save(path("state.safetensors"), state, {run = "r1"})
    local got, meta = nn.load(path("state.safetensors"))
    assert.same({run = "r1"}, meta)
    assert.are.equal(3, got.epoch)
    assert.are.equal("integer", math.type(got.epoch))
    assert.are.equal("a;b:{c}", got.note)
    assert.are.equal(0.1, got.lr)
    assert.are.equal(math.huge, got.big)
    assert.are.equal(false, got.ok)
    assert.same({1.5, 2, "x"}, got[7])
    assert.same(m[1].weight:totable(), got.model["0.weight"]:totable())
    assert.same(opt.state[1].exp_avg:totable(), got.optim.state[1].exp_avg:totable())
    -- the optimizer and the model come back from it
    local m2 = nn.Sequential(nn.Linear(2, 3))
    m2:load_state_dict(got.model)
    local opt2 = nn.optim.Adam(m2, {lr = 1})
    opt2:load_state_dict(got.optim)
    assert.are.equal(0.25, opt2.lr)
    assert.are.equal(true, opt2.amsgrad)
    -- the tensors are stored under their paths, which PyTorch's safetensors reader shows
    local f = assert(io.open(path("state.safetensors"), "rb"))
    local header = f:read(4096)
    f:close()
    assert.truthy(header:find('"model.0.weight"', 1, true))
    assert.truthy(header:find('"optim.state.1.exp_avg"', 1, true))
  end)

  it("refuses what a training state cannot hold, naming where it is", function()
    local loop = {}
    loop.self = loop
    th.fails(function() nn.save(path("l.st"), {a = loop}) end, "the table at a.self contains itself")
    th.fails(function() nn.save(path("l.st"), {a = {f = print}}) end, "a.f is a function")
    th.fails(function() nn.save(path("l.st"), {a = {nn.Linear(2, 2)}}) end,
      "a.1 is a module (save m:state_dict())")
    th.fails(function() nn.save(path("l.st"), {x = 1}, {["relua.tree"] = "x"}) end,
      "relua.tree is nn.save's own")
  end)

  it("refuses a malformed training state without running it", function()
    for _, tree in ipairs({"{s1:a", "{s9:a}", "{i1;t1:z}", "{f0xzz;b1}", string.rep("{", 300),
        "{s1:ab2}", "os.exit(3)"}) do
      nn._save_tensors(path("bad.st"), {}, {}, {["relua.tree"] = tree})
      th.fails(function() nn.load(path("bad.st")) end, "nn.load: ")
    end
  end)

  it("refuses bad arguments", function()
    local x = nn.ones(2)
    th.fails(function() nn._save_tensors(3, {"x"}, {x}) end,
      "nn._save_tensors: argument 1 must be a path")
    th.fails(function() nn._save_tensors(path("d"), {"x", "y"}, {x}) end, "2 names for 1 tensors")
    th.fails(function() nn._save_tensors(path("d"), {1}, {x}) end, "names[1] is a number")
    th.fails(function() nn._save_tensors(path("d"), {"x"}, {4}) end, "tensors[1] is a number")
    th.fails(function() nn._save_tensors(path("d"), {"x", "x"}, {x, x}) end,
      "nn._save_tensors:", "x")
    th.fails(function() nn._save_tensors(path("d"), {"x"}, {x}, {k = {}}) end,
      "metadata value k is a table")
    th.fails(function() nn._save_tensors(path("d"), {"x"}, {x}, {[1] = "a"}) end,
      "metadata keys must be strings")
    th.fails(function() nn._save_tensors(dir .. "/no/such/dir/f", {"x"}, {x}) end,
      "nn._save_tensors: " .. dir .. "/no/such/dir/f")
  end)

  it("reports malformed files by name, and nothing crashes", function()
    th.fails(function() nn.load(path("missing")) end, "nn.load: " .. path("missing"))
    local f = write("short", "abc")
    th.fails(function() nn.load(f) end, "nn.load: " .. f)
    f = write("huge", string.pack("<I8", 999999999999) .. "{}")
    th.fails(function() nn.load(f) end, "nn.load: " .. f, "999999999999")
    f = write("json", safetensors("{not json"))
    th.fails(function() nn.load(f) end, "nn.load: " .. f)
    f = write("offsets", safetensors('{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
      string.rep("\0", 8)))
    th.fails(function() nn.load(f) end, "nn.load: " .. f)
    f = write("dtype", safetensors('{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}',
      string.rep("\0", 8)))
    th.fails(function() nn.load(f) end, "nn.load: " .. f, "C64")
    f = write("ok", safetensors('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      string.pack("<ff", 1.5, -2)))
    th.same(nn.load(f).x, {1.5, -2})
    th.fails(function() nn.load() end, "nn.load: argument 1 must be a path")
  end)
end)

describe("npy and idx", function()
  it("round-trips .npy files", function()
    for _, t in ipairs{nn.tensor{{1, 2, 3}, {4, 5, 6}}, nn.tensor({1.25}, "f64"),
      nn.tensor({{-1, 2}}, "i64"), nn.tensor({0, 200}, "u8"), nn.range(1, 6):view(2, 3):t()} do
      nn.save_npy(path("t.npy"), t)
      local u = nn.load_npy(path("t.npy"))
      assert.equal(t:dtype(), u:dtype())
      assert.same(t:totable(), u:totable())
    end
    assert.equal("\x93NUMPY", read("t.npy"):sub(1, 6))
  end)

  it("reports malformed .npy files", function()
    local f = write("bad.npy", "\x93NUMPX\1\0")
    th.fails(function() nn.load_npy(f) end, "nn.load_npy: " .. f)
    f = write("obj.npy", "\x93NUMPY\1\0" .. string.pack("<I2", 54) ..
      "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }" .. "\n")
    th.fails(function() nn.load_npy(f) end, "nn.load_npy: " .. f)
    th.fails(function() nn.save_npy(path("x.npy"), 3) end, "nn.save_npy: argument 2")
  end)

  it("reads IDX files and reports malformed ones", function()
    local f = write("t.idx", "\0\0\8\2" .. string.pack(">I4>I4", 2, 3) .. "\1\2\3\4\5\255")
    local t = nn._load_idx(f)
    assert.equal("u8", t:dtype())
    assert.same({{1, 2, 3}, {4, 5, 255}}, t:totable())
    f = write("short.idx", "\0\0\8\1" .. string.pack(">I4", 10) .. "\1\2")
    th.fails(function() nn._load_idx(f) end, "nn._load_idx: " .. f)
    f = write("magic.idx", "\1\2\3\4")
    th.fails(function() nn._load_idx(f) end, "nn._load_idx: " .. f)
  end)

  it("converts IDX data while reading, equal to converting the u8 tensor", function()
    local n, bytes = 70000, {} -- more than one conversion chunk (65536 elements)
    for i = 1, n do bytes[i] = string.char((i * 7) % 256) end
    local f = write("px.idx", "\0\0\8\2" .. string.pack(">I4>I4", n // 100, 100) ..
      table.concat(bytes))
    local u = nn._load_idx(f)
    local x = nn._load_idx(f, "f32", 255)
    assert.equal("f32", x:dtype())
    assert.same(u:shape(), x:shape())
    local want = u:float()
    want:div_(255)
    assert.equal(0, (x - want):abs():max():item())
    assert.same(u:long():totable(), nn._load_idx(f, "i64"):totable())
    f = write("i32.idx", "\0\0\12\1" .. string.pack(">I4>i4>i4", 2, -6, 2 ^ 31 - 1))
    assert.same({-3, (2 ^ 31 - 1) / 2}, nn._load_idx(f, "f64", 2):totable())
    assert.same({-6, 2 ^ 31 - 1}, nn._load_idx(f, "i64", 1):totable())
  end)

  it("reports bad IDX conversions", function()
    local f = write("c.idx", "\0\0\8\1" .. string.pack(">I4", 3) .. "\1\2\3")
    th.fails(function() nn._load_idx(f, "f16") end, "unknown dtype 'f16'")
    th.fails(function() nn._load_idx(f, 3) end, "nn._load_idx: argument 2")
    th.fails(function() nn._load_idx(f, "f32", "x") end, "nn._load_idx: argument 3")
    th.fails(function() nn._load_idx(f, "f32", 0) end, "divisor must be finite and nonzero")
    th.fails(function() nn._load_idx(f, "f32", 1 / 0) end, "divisor must be finite")
    th.fails(function() nn._load_idx(f, "u8", 255) end, "a divisor needs a float dtype")
    f = write("cshort.idx", "\0\0\8\1" .. string.pack(">I4", 10) .. "\1\2")
    th.fails(function() nn._load_idx(f, "f32", 255) end, f, "truncated")
  end)

  it("refuses an empty shape whose other sizes overflow (found by fuzzing)", function()
    -- {0, 2^31, 2^31, 2^31}: no data, but strides of 2^62 and more
    local f = write("huge_empty.idx", "\0\0\8\4" .. string.pack(">I4>I4>I4>I4", 0, 2^31, 2^31, 2^31))
    th.fails(function() nn._load_idx(f) end, f, "too large")
    -- an empty shape within the limit still loads
    f = write("empty.idx", "\0\0\8\2" .. string.pack(">I4>I4", 0, 5))
    assert.equal("{0,5}", th.shape(nn._load_idx(f)))
  end)
end)

describe("utilities", function()
  it("nn.time is a monotonic clock in seconds", function()
    -- 10^5 readings never go back, and the clock resolves fractions of a second (a whole-
    -- second clock would give integers only)
    local prev, fractional = nn.time(), false
    assert.equal("number", math.type(prev) and "number" or type(prev))
    for _ = 1, 100000 do
      local t = nn.time()
      assert(t >= prev, "nn.time went back from " .. prev .. " to " .. t)
      fractional = fractional or t ~= math.floor(t)
      prev = t
    end
    assert.is_true(fractional)
  end)

  it("nn.isatty takes a descriptor or a Lua file", function()
    assert.equal("boolean", type(nn.isatty(1)))
    assert.is_false(nn.isatty(-1))
    local f = io.tmpfile()
    assert.is_false(nn.isatty(f))
    f:close()
    th.fails(function() nn.isatty(f) end, "nn.isatty: the file is closed")
    th.fails(function() nn.isatty("x") end, "nn.isatty: argument 1 must be an integer")
  end)
end)
