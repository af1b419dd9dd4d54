-- stdlib/nn/data.lua: nn.data, data sets and batches.
--
-- Files: IDX (MNIST's format, read in C), Fashion-MNIST from Debian's dataset-fashion-mnist,
-- CSV. Toy problems made on the spot: spirals, parity, copy. And loader, which cuts tensors
-- into (shuffled) mini-batches.
local nn = require "nn"
local options = require "nn.options"

local data = {}

local function fail(fname, fmt, ...)
  error("nn.data." .. fname .. ": " .. string.format(fmt, ...), 0)
end

local function check_count(fname, what, n)
  n = options.whole(n) or n
  if math.type(n) ~= "integer" or n < 1 then
    fail(fname, "%s must be a positive integer, got %s", what, tostring(n))
  end
  return n
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

function data.idx(path)
  return options.call_as("nn.data.idx", nn._load_idx, path)
end

-- nn.fit looks for its resume file with it (internal: not documented)
data._file_exists = file_exists

-- ---- Fashion-MNIST ----

local FMNIST_DIR = "/usr/share/datasets/fashion-mnist"

-- where to look, in order: opts.dir, $RELUA_DATA/fashion-mnist, $RELUA_DATA, the Debian path
local function fmnist_dirs(opts)
  if opts.dir then return {opts.dir} end
  local env = os.getenv("RELUA_DATA")
  if env and env ~= "" then return {env .. "/fashion-mnist", env} end
  return {FMNIST_DIR}
end

-- the path of one file: name.gz or name in the first directory that has it
local function fmnist_file(dirs, name)
  for _, dir in ipairs(dirs) do
    for _, path in ipairs({dir .. "/" .. name .. ".gz", dir .. "/" .. name}) do
      if file_exists(path) then return path end
    end
  end
  fail("fashion_mnist", "%s/%s.gz not found; install Debian's dataset-fashion-mnist or pass "
    .. "{dir = ...}", dirs[1], name)
end

function data.fashion_mnist(split, opts)
  split = split or "train"
  opts = opts or {}
  local prefix = ({train = "train", test = "t10k"})[split]
  if not prefix then
    fail("fashion_mnist", "split must be \"train\" or \"test\", not %s", tostring(split))
  end
  local dirs = fmnist_dirs(opts)
  -- converted to f32 in [0, 1] while inflating: the u8 copy (47 MB) never exists whole
  local images = options.call_as("nn.data.fashion_mnist", nn._load_idx,
    fmnist_file(dirs, prefix .. "-images-idx3-ubyte"), "f32", 255)
  local x = images:view(images:size(1), -1)
  local labels <close> = data.idx(fmnist_file(dirs, prefix .. "-labels-idx1-ubyte"))
  return x, labels:long() + 1
end

-- ---- CSV ----

local function split_line(line, sep)
  local cells = {}
  for cell in (line .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do
    cells[#cells + 1] = cell:match("^%s*(.-)%s*$")
  end
  return cells
end

local function parse_row(path, lineno, cells, ncols)
  if #cells ~= ncols then
    fail("csv", "%s:%d has %d columns, expected %d", path, lineno, #cells, ncols)
  end
  local row = {}
  for j, cell in ipairs(cells) do
    local v = tonumber(cell)
    if not v then fail("csv", "%s:%d column %d: '%s' is not a number", path, lineno, j, cell) end
    row[j] = v
  end
  return row
end

-- A CSV file of numbers -> a 2-D tensor (rows x columns) and the header's names
local DTYPES = {f32 = true, f64 = true, i64 = true, u8 = true}

function data.csv(path, opts)
  opts = options.check("nn.data.csv", opts, {"sep", "header", "dtype"})
  if type(path) ~= "string" then fail("csv", "the path must be a string, got %s", type(path)) end
  if opts.sep ~= nil and (type(opts.sep) ~= "string" or opts.sep == "") then
    fail("csv", "sep must be a non-empty string, got %s (%s)", type(opts.sep), tostring(opts.sep))
  end
  if opts.header ~= nil and type(opts.header) ~= "boolean" then
    fail("csv", "header must be true or false, got %s (%s)", type(opts.header),
      tostring(opts.header))
  end
  if opts.dtype ~= nil and not DTYPES[opts.dtype] then
    fail("csv", "unknown dtype '%s' (expected f32, f64, i64 or u8)", tostring(opts.dtype))
  end
  local f, err = io.open(path, "r")
  if not f then fail("csv", "%s", err) end
  local _, _, code = f:read(0)
  if code == 21 then -- EISDIR: opening a directory succeeds, reading it fails
    f:close()
    fail("csv", "%s is a directory, not a CSV file", path)
  end
  local sep, header = opts.sep or ",", opts.header ~= false
  local rows, names, ncols, lineno = {}, nil, nil, 0
  for line in f:lines() do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    if line:match("%S") then
      local cells = split_line(line, sep)
      if header and not names then
        names, ncols = cells, #cells
      else
        ncols = ncols or #cells
        rows[#rows + 1] = parse_row(path, lineno, cells, ncols)
      end
    end
  end
  f:close()
  if #rows == 0 then fail("csv", "%s has no rows of data", path) end
  return nn.tensor(rows, opts.dtype or "f32"), names
end

-- ---- toy problems ----

-- n points per class on `classes` interleaved spiral arms (CS231n's spirals):
-- x (n*classes, 2) f32, y (n*classes) i64 in 1..classes
function data.spirals(n, classes, opts)
  classes = classes or 3
  n = check_count("spirals", "n", n)
  classes = check_count("spirals", "classes", classes)
  opts = options.check("nn.data.spirals", opts, {"noise"})
  local noise = opts.noise or 0.2
  if type(noise) ~= "number" or not (noise >= 0) then
    fail("spirals", "noise must be a number >= 0, got %s", tostring(noise))
  end
  local xs, ys = {}, {}
  for c = 1, classes do
    local r = nn.linspace(0, 1, n)
    local t = nn.linspace((c - 1) * 4, c * 4, n) + nn.randn(n) * noise
    xs[c] = nn.stack({r * t:sin(), r * t:cos()}, 2)
    ys[c] = nn.full({n}, c, "i64")
  end
  return nn.cat(xs, 1), nn.cat(ys, 1)
end

-- n random bit strings of length len: x (n, len) f32 of 0/1, y (n) i64: 1 even, 2 odd
function data.parity(n, len)
  n = check_count("parity", "n", n)
  len = check_count("parity", "len", len)
  local x = nn.randint(0, 1, {n, len}):float()
  local s = x:sum(2)
  return x, (s - (s / 2):floor() * 2):long() + 1
end

-- copy task: x (n, 2 len) i64 is len symbols in 1..vocab then len blanks (vocab + 1);
-- y is len blanks then the symbols: the model must repeat what it saw
function data.copy_task(n, len, opts)
  n = check_count("copy_task", "n", n)
  len = check_count("copy_task", "len", len)
  opts = options.check("nn.data.copy_task", opts, {"vocab"})
  local vocab = check_count("copy_task", "vocab", opts.vocab or 8)
  local symbols = nn.randint(1, vocab, {n, len})
  local blank = nn.full({n, len}, vocab + 1, "i64")
  return nn.cat({symbols, blank}, 2), nn.cat({blank, symbols}, 2)
end

-- the adding problem (Hochreiter & Schmidhuber; Le et al.): x (n, T, 2) f32 holds a value in
-- [0,1) and a marker per step, two markers (one in each half); y (n, 1) is the sum of the two
-- marked values. Predicting 1 always gives an MSE of 1/6.
function data.adding(n, T)
  n = check_count("adding", "n", n)
  T = options.whole(T) or T
  if math.type(T) ~= "integer" or T < 2 then
    fail("adding", "T must be an integer of at least 2, got %s", tostring(T))
  end
  local half = T // 2
  local first = nn.randint(1, half, {n})
  local second = nn.randint(half + 1, T, {n})
  local marks = (nn.one_hot(first, T) + nn.one_hot(second, T)):float()
  local values = nn.rand(n, T)
  return nn.stack({values, marks}, 3), (values * marks):sum(2, true)
end

-- selective copy (as in the Mamba paper): k symbols in 1..vocab at random places among len
-- blanks (vocab + 1), then k recall markers (vocab + 2); y (n, k) is the symbols in order
function data.selective_copy(n, len, k, opts)
  n = check_count("selective_copy", "n", n)
  len = check_count("selective_copy", "len", len)
  k = check_count("selective_copy", "k", k)
  if k > len then fail("selective_copy", "k (%d) must be at most len (%d)", k, len) end
  opts = options.check("nn.data.selective_copy", opts, {"vocab"})
  local vocab = check_count("selective_copy", "vocab", opts.vocab or 8)
  local symbols = nn.randint(1, vocab, {n, k})
  local x = nn.full({n, len + k}, vocab + 1, "i64")
  x:narrow(2, len + 1, k):fill_(vocab + 2)
  local sym = symbols:totable()
  for i = 1, n do
    local places = nn.randperm(len):narrow(1, 1, k):totable()
    table.sort(places)
    local row = x[i]
    for j = 1, k do row[places[j]] = sym[i][j] end
  end
  return x, symbols
end

-- sum mod m: x (n, len) i64 digits 0..m-1 stored as 1..m (token d + 1); y (n) i64 is
-- (sum of the digits mod m) + 1, a class in 1..m. m = 3 is the state-tracking task that a
-- diagonal RNN with transitions in [0,1] cannot do.
function data.sum_mod(n, len, m)
  m = m or 3
  n = check_count("sum_mod", "n", n)
  len = check_count("sum_mod", "len", len)
  m = options.whole(m) or m
  if math.type(m) ~= "integer" or m < 2 then
    fail("sum_mod", "m must be an integer of at least 2, got %s", tostring(m))
  end
  local x = nn.randint(1, m, {n, len})
  local s = (x - 1):sum(2)
  return x, (s - (s / m):floor() * m + 1):long()
end

-- ---- loader ----

local function check_tensors(list)
  if type(list) ~= "table" or #list == 0 then
    fail("loader", "expected a list of tensors {x, y}, got %s", type(list) == "table"
      and "an empty table" or type(list) .. " (" .. tostring(list) .. ")")
  end
  local n
  for i, t in ipairs(list) do
    if not nn.is_tensor(t) then fail("loader", "item %d is a %s, not a tensor", i, type(t)) end
    if t:dim() == 0 then fail("loader", "item %d is a scalar; batches need a first dim", i) end
    n = n or t:size(1)
    if t:size(1) ~= n then
      fail("loader", "item 1 has %d rows but item %d has %d", n, i, t:size(1))
    end
  end
  return n
end

-- a permutation of 1..n; with a seed, the same one each time, leaving the generator as it was
local function permutation(n, seed)
  if seed == nil then return nn.randperm(n) end
  local saved = nn.get_rng_state()
  nn.manual_seed(seed)
  local perm = nn.randperm(n)
  nn.set_rng_state(saved)
  return perm
end

local function batch_of(list, start, len, perm)
  local out = {}
  for i, t in ipairs(list) do
    out[i] = perm and t:index_select(1, perm:narrow(1, start, len)) or t:narrow(1, start, len)
  end
  return table.unpack(out, 1, #list)
end

-- for xb, yb in nn.data.loader({x, y}, {batch, shuffle, drop_last, seed}) do ... end
-- A loader is re-iterable, as PyTorch's DataLoader: when a pass ends, the next `for` over it
-- makes a new pass (reshuffled; with a seed, pass p uses seed + p - 1). A loop that breaks
-- early leaves the pass where it stopped. #loader is the number of batches of a pass.
local LOADER_OPTIONS = {"batch", "shuffle", "drop_last", "seed"}
local Loader = {}
Loader.__index = Loader

function Loader:__call()
  if not self.start then self:begin() end
  if self.start > self.last then
    self.start = nil
    return nil
  end
  local len = math.min(self.batch, self.last - self.start + 1)
  local s = self.start
  self.start = self.start + len
  return batch_of(self.list, s, len, self.perm)
end

function Loader:begin()
  self.pass = self.pass + 1
  local seed = self.seed and self.seed + self.pass - 1
  self.perm = self.shuffle and permutation(self.n, seed) or nil
  self.start = 1
end

function Loader:__len()
  return data.num_batches(self.n, self.batch, self.drop_last)
end

function Loader:__tostring()
  return string.format("nn.data.loader(%d rows, batch %d%s)", self.n, self.batch,
    self.shuffle and ", shuffled" or "")
end

function data.loader(list, opts)
  if options.whole(opts) then opts = {batch = options.whole(opts)} end -- loader({x, y}, 64)
  options.check("nn.data.loader", opts, LOADER_OPTIONS)
  opts = opts or {}
  local n = check_tensors(list)
  local batch = opts.batch or 32
  batch = check_count("loader", "batch", batch)
  if batch < 1 then fail("loader", "batch must be at least 1, got %d", batch) end
  for _, k in ipairs({"shuffle", "drop_last"}) do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then
      fail("loader", "%s must be true or false, got %s (%s)", k, type(opts[k]), tostring(opts[k]))
    end
  end
  if opts.seed ~= nil and math.type(options.whole(opts.seed)) ~= "integer" then
    fail("loader", "seed must be an integer, got %s", tostring(opts.seed))
  end
  local drop_last = opts.drop_last and true or false
  local last = drop_last and n - n % batch or n
  return setmetatable({list = list, n = n, batch = batch, shuffle = opts.shuffle, seed = opts.seed,
    drop_last = drop_last, last = last, pass = 0}, Loader)
end

-- the number of batches loader will yield
function data.num_batches(n, batch, drop_last)
  n = options.whole(n) or n
  if math.type(n) ~= "integer" or n < 0 then
    fail("num_batches", "n must be a non-negative integer, got %s", tostring(n))
  end
  batch = check_count("num_batches", "batch", batch)
  return drop_last and n // batch or (n + batch - 1) // batch
end

nn.document("Data", {
  {"data.idx", data.idx, "nn.data.idx(path) -> tensor",
    "Reads an IDX file (MNIST's format, .gz or not)."},
  {"data.fashion_mnist", data.fashion_mnist,
    "nn.data.fashion_mnist([split=\"train\" [, {dir}]]) -> images, labels",
    "images (N,784) f32 in [0,1], labels (N) i64 in 1..10; from " .. FMNIST_DIR
      .. " or $RELUA_DATA."},
  {"data.loader", data.loader,
    "nn.data.loader({x, y}, {batch=32, shuffle=false, drop_last=false, seed} | batch) -> loader",
    "for xb, yb in nn.data.loader({x, y}, {batch = 64, shuffle = true}) do ... end; each "
      .. "for over the same loader is a new pass (reshuffled); #loader is its batch count."},
  {"data.num_batches", data.num_batches, "nn.data.num_batches(n, batch [, drop_last])",
    "How many batches loader yields for n rows."},
  {"data.csv", data.csv, "nn.data.csv(path [, {header=true, sep=\",\", dtype=\"f32\"}])",
    "A CSV file of numbers -> a 2-D tensor and the list of column names."},
  {"data.spirals", data.spirals, "nn.data.spirals(n [, classes=3 [, {noise=0.2}]]) -> x, y",
    "n points per class on interleaved spiral arms: x (N,2) f32, y (N) i64 in 1..classes."},
  {"data.parity", data.parity, "nn.data.parity(n, len) -> x, y",
    "n random bit strings x (n,len) f32; y (n) i64 is 1 for even parity, 2 for odd."},
  {"data.copy_task", data.copy_task, "nn.data.copy_task(n, len [, {vocab=8}]) -> x, y",
    "Sequences of len symbols then len blanks; the target repeats the symbols after the blanks."},
  {"data.adding", data.adding, "nn.data.adding(n, T) -> x, y",
    "The adding problem: x (n,T,2) values and two markers, y (n,1) the sum of the marked values."},
  {"data.selective_copy", data.selective_copy,
    "nn.data.selective_copy(n, len, k [, {vocab=8}]) -> x, y",
    "k symbols scattered among len blanks, then k recall markers; y (n,k) the symbols in order."},
  {"data.sum_mod", data.sum_mod, "nn.data.sum_mod(n, len [, m=3]) -> x, y",
    "Digit strings x (n,len) i64 (digit d as d+1); y (n) i64 is the digit sum mod m, plus 1."},
})

return data
