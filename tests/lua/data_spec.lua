-- tests/lua/data_spec.lua: nn.data: loader, CSV, toy problems, Fashion-MNIST.

local function batches(x, y, opts)
  local out = {}
  for xb, yb in nn.data.loader({x, y}, opts) do
    th.same(yb, (xb:select(2, 1) * 10):long():totable()) -- rows stay paired
    out[#out + 1] = xb:select(2, 1):long():totable()
  end
  return out
end

local function write_file(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("nn.data.loader", function()
  local x = nn.range(1, 10):float():view(10, 1)
  local y = (nn.range(1, 10) * 10):long()

  it("cuts batches in order", function()
    assert.same({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}}, batches(x, y, {batch = 4}))
    assert.same({{1, 2, 3, 4}, {5, 6, 7, 8}}, batches(x, y, {batch = 4, drop_last = true}))
    assert.same({{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, batches(x, y, {batch = 32}))
    assert.equal(3, nn.data.num_batches(10, 4))
    assert.equal(2, nn.data.num_batches(10, 4, true))
  end)

  it("shuffles deterministically with a seed", function()
    local a = batches(x, y, {batch = 3, shuffle = true, seed = 7})
    local b = batches(x, y, {batch = 3, shuffle = true, seed = 7})
    local c = batches(x, y, {batch = 3, shuffle = true, seed = 8})
    assert.same(a, b)
    assert.not_same(a, c)
    local seen = {}
    for _, batch in ipairs(a) do
      for _, v in ipairs(batch) do seen[#seen + 1] = v end
    end
    table.sort(seen)
    assert.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, seen)
    assert.equal(4, #a)
  end)

  it("shuffles with the global generator", function()
    nn.manual_seed(5)
    local a = batches(x, y, {batch = 5, shuffle = true})
    nn.manual_seed(5)
    assert.same(a, batches(x, y, {batch = 5, shuffle = true}))
  end)

  it("takes one tensor or several", function()
    local n = 0
    for xb in nn.data.loader({x}, {batch = 6}) do n = n + xb:size(1) end
    assert.equal(10, n)
  end)

  it("checks its input", function()
    th.fails(function() nn.data.loader({x, y:narrow(1, 1, 9)}) end,
      "nn.data.loader: item 1 has 10 rows but item 2 has 9")
    th.fails(function() nn.data.loader({x}, {batch = 0}) end, "batch must be a positive integer")
    th.fails(function() nn.data.loader({}) end, "expected a list of tensors")
  end)
end)

describe("nn.data.csv", function()
  it("reads numbers and the header", function()
    local path = write_file("a, b,c\n1,2,3\n4.5,-5,6e2\n\n")
    local t, names = nn.data.csv(path)
    th.same(t, {{1, 2, 3}, {4.5, -5, 600}})
    assert.same({"a", "b", "c"}, names)
    os.remove(path)
  end)

  it("reads files without a header, with another separator", function()
    local path = write_file("1;2\r\n3;4\r\n")
    local t, names = nn.data.csv(path, {header = false, sep = ";", dtype = "f64"})
    th.same(t, {{1, 2}, {3, 4}})
    assert.equal("f64", t:dtype())
    assert.is_nil(names)
    os.remove(path)
  end)

  it("says where a file is wrong", function()
    local path = write_file("x,y\n1,2\n3,oops\n")
    th.fails(function() nn.data.csv(path) end, path .. ":3 column 2: 'oops' is not a number")
    os.remove(path)
    path = write_file("1,2\n3\n")
    th.fails(function() nn.data.csv(path, {header = false}) end, ":2 has 1 columns, expected 2")
    os.remove(path)
    th.fails(function() nn.data.csv("/nonexistent.csv") end, "nn.data.csv: /nonexistent.csv")
  end)
end)

describe("toy problems", function()
  it("spirals: shapes, labels, determinism", function()
    nn.manual_seed(1)
    local x, y = nn.data.spirals(50, 3)
    assert.equal("{150,2}", th.shape(x))
    assert.equal("f32", x:dtype())
    assert.equal("{150}", th.shape(y))
    assert.equal("i64", y:dtype())
    assert.equal(1, y:min():item())
    assert.equal(3, y:max():item())
    assert.is_true(x:abs():max():item() <= 1)
    nn.manual_seed(1)
    th.same(nn.data.spirals(50, 3), x:totable())
    local x0 = nn.data.spirals(10, 2, {noise = 0})
    assert.equal("{20,2}", th.shape(x0))
  end)

  it("parity: labels match the bits", function()
    local x, y = nn.data.parity(20, 5)
    assert.equal("{20,5}", th.shape(x))
    local bits, labels = x:totable(), y:totable()
    for i = 1, 20 do
      local s = 0
      for _, b in ipairs(bits[i]) do s = s + b end
      assert.equal(s % 2 + 1, labels[i])
    end
  end)

  it("copy_task: the target repeats the symbols", function()
    local x, y = nn.data.copy_task(4, 3, {vocab = 5})
    assert.equal("{4,6}", th.shape(x))
    th.same(y:narrow(2, 4, 3), x:narrow(2, 1, 3):totable())
    th.same(x:narrow(2, 4, 3), nn.full({4, 3}, 6):totable())
  end)
end)

describe("nn.data sequence tasks", function()
  it("adding: two markers, one in each half, and y is the sum of the marked values", function()
    local x, y = nn.data.adding(50, 9)
    assert.equal("{50,9,2}", th.shape(x))
    assert.equal("{50,1}", th.shape(y))
    local rows, sums = x:totable(), y:totable()
    for i = 1, 50 do
      local marks, s, where = 0, 0, {}
      for t = 1, 9 do
        local v, m = rows[i][t][1], rows[i][t][2]
        assert.is_true(v >= 0 and v < 1)
        if m == 1 then marks, s, where[#where + 1] = marks + 1, s + v, t else assert.equal(0, m) end
      end
      assert.equal(2, marks)
      assert.is_true(where[1] <= 4 and where[2] >= 5)
      assert.near(s, sums[i][1], 1e-5)
    end
    th.fails(function() nn.data.adding(4, 1) end, "nn.data.adding: T must be an integer of at least 2")
  end)

  it("selective_copy: the symbols in order, then the markers", function()
    local x, y = nn.data.selective_copy(20, 10, 3, {vocab = 4})
    assert.equal("{20,13}", th.shape(x))
    assert.equal("{20,3}", th.shape(y))
    local rows, syms = x:totable(), y:totable()
    for i = 1, 20 do
      local seen = {}
      for t = 1, 10 do
        if rows[i][t] ~= 5 then seen[#seen + 1] = rows[i][t] end
      end
      assert.same(syms[i], seen)
      for t = 11, 13 do assert.equal(6, rows[i][t]) end
    end
    th.fails(function() nn.data.selective_copy(2, 3, 4) end, "nn.data.selective_copy: k (4) must be at most len (3)")
  end)

  it("sum_mod: labels are the digit sum mod m, plus 1", function()
    for _, m in ipairs{2, 3, 5} do
      local x, y = nn.data.sum_mod(30, 7, m)
      assert.equal("i64", y:dtype())
      local rows, labels = x:totable(), y:totable()
      for i = 1, 30 do
        local s = 0
        for _, d in ipairs(rows[i]) do
          assert.is_true(d >= 1 and d <= m)
          s = s + d - 1
        end
        assert.equal(s % m + 1, labels[i])
      end
    end
  end)
end)

describe("nn.data.fashion_mnist", function()
  local dir = "/usr/share/datasets/fashion-mnist"
  local f = io.open(dir .. "/t10k-images-idx3-ubyte.gz", "rb")
  if f then f:close() end

  it("says what to do when the files are missing", function()
    th.fails(function() nn.data.fashion_mnist("test", {dir = "/nonexistent"}) end,
      "nn.data.fashion_mnist: /nonexistent/t10k-images-idx3-ubyte.gz not found; install "
        .. "Debian's dataset-fashion-mnist or pass {dir = ...}")
    th.fails(function() nn.data.fashion_mnist("validation") end, "split must be")
  end)

  if not f then
    pending("loads the test split (skipped: " .. dir .. " is missing; "
      .. "apt install dataset-fashion-mnist)")
    return
  end
  it("loads the test split", function()
    local x, y = nn.data.fashion_mnist("test")
    assert.equal("{10000,784}", th.shape(x))
    assert.equal("f32", x:dtype())
    assert.equal("{10000}", th.shape(y))
    assert.equal("i64", y:dtype())
    assert.equal(1, y:min():item())
    assert.equal(10, y:max():item())
    assert.equal(0, x:min():item())
    assert.equal(1, x:max():item())
  end)
end)
