-- tests/misuse/cases/data.lua: the misuse cases of data:
-- loaders, CSV, IDX, toy problems.
-- Each is {code, fname, values}: see tests/misuse/cases.lua.
return {
  {"nn.data.loader({nn.zeros(4, 2), nn.zeros(3)}, {batch = 2})", "nn.data.loader", {"4", "3"}},
  {"nn.data.loader({nn.zeros(4, 2)}, {batch = 0})", "nn.data.loader", {"0"}},
  {"nn.data.loader({nn.zeros(4, 2)}, {batch = 2.5})", "nn.data.loader", {"2.5"}},
  {"nn.data.loader({nn.zeros(4, 2)}, {bach = 2})", "nn.data.loader", {"bach"}},
  {"nn.data.loader(5)", "nn.data.loader", {"number"}},
  {"nn.data.spirals(-5, 2)", "nn.data.spirals", {"-5"}},
  {"nn.data.parity(10, 0)", "nn.data.parity", {"0"}},
  {"nn.data.copy_task(-1, 5)", "nn.data.copy_task", {"-1"}},
  {"nn.data.fashion_mnist('validation')", "nn.data.fashion_mnist", {"validation"}},
  {"nn.data.csv('/nonexistent/x.csv')", "nn.data.csv", {"/nonexistent/x.csv"}},
  {"nn.data.csv('/tmp')", "nn.data.csv", {"/tmp"}},
  {"nn.data.idx('/nonexistent.idx')", "nn.data.idx", {"/nonexistent.idx"}},
  {"nn.data.num_batches(10, 0)", "nn.data.num_batches", {"0"}},
  {"nn.data.loader({nn.zeros(4, 2)}, {batch = 2, shuffle = 'yes'})", "nn.data.loader", {"yes"}},
  {"nn.data.loader({})", "nn.data.loader", {"empty"}},
  {"nn.data.loader({5, 6})", "nn.data.loader", {"item 1", "number"}},
  {"nn.data.loader({nn.tensor(3)})", "nn.data.loader", {"item 1", "scalar"}},
  {"nn.data.loader({nn.zeros(4, 2)}, {batch = 2, drop_last = 5})", "nn.data.loader", {"5"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('1,2\\n3\\n'); f:close(); " ..
  "nn.data.csv(p)",
    "nn.data.csv", {"2"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('1,2\\n3,x\\n'); f:close(); " ..
  "nn.data.csv(p)",
    "nn.data.csv", {"x"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('1,2\\n'); f:close(); " ..
  "nn.data.csv(p, {sep = 5})",
    "nn.data.csv", {"5"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('1,2\\n'); f:close(); " ..
  "nn.data.csv(p, {dtype = 'f16'})",
    "nn.data.csv", {"f16"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('garbage!'); f:close(); " ..
  "nn.data.idx(p)",
    "nn.data.idx", {"/tmp/"}},
  {"nn.data.idx('/tmp')", "nn.data.idx", {"/tmp"}},
  {"nn.data.spirals(10, 0)", "nn.data.spirals", {"0"}},
  {"nn.data.spirals(10, 2.5)", "nn.data.spirals", {"2.5"}},
  {"nn.data.fashion_mnist('train', {dir = '/nonexistent'})",
    "nn.data.fashion_mnist", {"/nonexistent"}},
  {"nn.data.selective_copy(10, 5, 9)", "nn.data.selective_copy", {"9"}},
  {"nn.data.sum_mod(10, 5, 0)", "nn.data.sum_mod", {"0"}},
  {"nn.data.adding(10, 0)", "nn.data.adding", {"0"}},
  {"nn.data.loader({nn.zeros(4, 2)}, {batch = 2, seed = 'a'})", "nn.data.loader", {"a"}},
  {"nn.data.csv(5)", "nn.data.csv", {"number"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('a,b\\n1,2\\n'); f:close(); " ..
  "nn.data.csv(p, {header = 'yes'})",
    "nn.data.csv", {"header", "yes"}},
  {"nn.data.idx(5)", "nn.data.idx", {"5"}},
  {"nn.data.parity(2.5, 3)", "nn.data.parity", {"2.5"}},
  {"nn.data.spirals(10, 2, {noise = -1})", "nn.data.spirals", {"-1"}},
  {"nn.data.spirals(10, 2, {bogus = 1})", "nn.data.spirals", {"bogus"}},
  {"nn.data.copy_task(10, 5, {bogus = 1})", "nn.data.copy_task", {"bogus"}},
  {"nn.data.fashion_mnist(5)", "nn.data.fashion_mnist", {"5"}},
  {"nn.data.num_batches(-1, 2)", "nn.data.num_batches", {"-1"}},
  {"for xb in nn.data.loader({nn.zeros(4, 2)}, {batch = 2}) do xb:view(7) end", "nn.view", {"{7}"}},
}
