-- tests/misuse/cases/files.lua: the misuse cases of files:
-- nn.save/nn.load/npy, nn.fit's options, checkpoints and resume.
-- Each is {code, fname, values}: see tests/misuse/cases.lua.
return {
  {"nn.save('/nonexistent/dir/m.safetensors', nn.Linear(2, 2))",
    "nn.save", {"/nonexistent/dir/m.safetensors"}},
  {"nn.save('/tmp', nn.Linear(2, 2))", "nn.save", {"/tmp"}},
  {"nn.save('/dev/null', nn.Linear(2, 2))", "nn.save", {"/dev/null"}},
  {"nn.save(os.tmpname(), 5)", "nn.save", {"number"}},
  {"nn.save(os.tmpname(), {a = function() end})", "nn.save", {"function"}},
  {"nn.save(5, {})", "nn.save", {"number"}},
  {"nn.load('/nonexistent.safetensors')", "nn.load", {"/nonexistent.safetensors"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('garbage'); f:close(); " ..
  "nn.load(p)",
    "nn.load", {"/tmp/"}},
  {"nn.load_npy('/nonexistent.npy')", "nn.load_npy", {"/nonexistent.npy"}},
  {"nn.save_npy(os.tmpname(), 5)", "nn.save_npy", {"5"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {resume = '/nonexistent.safetensors'})",
    "nn.fit", {"/nonexistent.safetensors"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {checkpoint = '/nonexistent/c.safetensors'})",
    "nn.fit", {"/nonexistent/c.safetensors"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, 5)",
    "nn.fit", {"number"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {loss = 'bogus'})",
    "nn.fit", {"bogus"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {epoch = 3})",
    "nn.fit", {"epoch"}},
  {"nn.load('/tmp')", "nn.load", {"/tmp"}},
  {"local p = os.tmpname(); nn.save(p, {x = nn.zeros(100)}); local f = io.open(p, 'rb'); " ..
  "local s = f:read('a'); f:close(); f = io.open(p, 'wb'); f:write(s:sub(1, #s - 10)); " ..
  "f:close(); nn.load(p)",
    "nn.load", {"/tmp/"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('garbage garbage'); f:close(); " ..
  "nn.load_npy(p)",
    "nn.load_npy", {"/tmp/"}},
  {"nn.save_npy('/nonexistent/x.npy', nn.zeros(2))", "nn.save_npy", {"/nonexistent/x.npy"}},
  {"nn.save(os.tmpname(), {x = nn.zeros(2)}, 5)", "nn.save", {"metadata", "number"}},
  {"nn.save(os.tmpname(), {x = nn.zeros(2)}, {a = function() end})", "nn.save", {"function"}},
  {"local p = os.tmpname(); nn.save_npy(p, nn.zeros(2)); nn.load(p)", "nn.load", {"/tmp/"}},
  {"local p = os.tmpname(); nn.save(p, {x = nn.zeros(2)}); nn.load_npy(p)",
    "nn.load_npy", {"/tmp/"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {checkpoint = 5})",
    "nn.fit", {"checkpoint", "number"}},
  {"local p = os.tmpname(); local f = io.open(p, 'w'); f:write('garbage garbage'); f:close(); " ..
  "nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {resume = p})",
    "nn.fit", {"/tmp/"}},
  {"local p = os.tmpname() .. '.st'; local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {checkpoint = p, progress = false}); " ..
  "nn.fit(nn.Linear(2, 3), d, {resume = p, epochs = 2, progress = false})",
    "nn.fit", {"{2,2}", "{3,2}"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1}, 'i64')})", "nn.fit", {"4", "3"}},
  {"nn.fit(nn.Linear(2, 2), 5)", "nn.fit", {"data"}},
  {"nn.fit(5, {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')})", "nn.fit", {"5"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {epochs = -1})",
    "nn.fit", {"-1"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {optim = 5})",
    "nn.fit", {"5"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {val = 5})",
    "nn.fit", {"val"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}, {rule = 5})",
    "nn.fit", {"rule", "number"}},
  {"local p = os.tmpname(); nn.save(p, {[true] = nn.zeros(2)})", "nn.save", {"true"}},
  {"local p = os.tmpname(); local t = {}; t.self = t; nn.save(p, t)", "nn.save", {"self"}},
  {"local p = os.tmpname(); local t = {x = nn.zeros(2)}; t.again = {t}; nn.save(p, t)",
    "nn.save", {"again"}},
  {"local p = os.tmpname(); nn.save(p, {x = nn.zeros(1):expand(2^40)})",
    "nn.save", {"1099511627776"}},
  {"nn.load(5)", "nn.load", {"5"}},
  {"nn.load_npy(5)", "nn.load_npy", {"5"}},
  {"local p = os.tmpname(); nn.save_npy(p, nn.zeros(1):expand(2^40))",
    "nn.save_npy", {"1099511627776"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {resume = 5})",
    "nn.fit", {"resume"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {epochs = 2.5})",
    "nn.fit", {"2.5"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {batch = 0})",
    "nn.fit", {"0"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {schedule = 'bogus'})",
    "nn.fit", {"bogus"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {warmup = -1})",
    "nn.fit", {"-1"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {lr = -1})",
    "nn.fit", {"-1"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {viz = 'yes'})",
    "nn.fit", {"viz"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {viz_path = 5})",
    "nn.fit", {"viz_path"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {on_step = 5})",
    "nn.fit", {"on_step"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2), nn.tensor({1, 5, 1, 2}, 'i64')}, {progress = false})",
    "nn.cross_entropy", {"5"}},
  {"nn.fit(nn.Linear(2, 2), {nn.zeros(4, 2, 'f64'), nn.tensor({1, 2, 1, 2}, 'i64')}, {progress = false})",
    "nn.Linear", {"f64"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {val = {nn.zeros(3, 2), nn.tensor({1, 2}, 'i64')}})",
    "nn.fit", {"3", "2"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {checkpoint = '/tmp'})",
    "nn.fit", {"/tmp"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; " ..
  "nn.fit(nn.Linear(2, 2), d, {resume = '/tmp'})",
    "nn.fit", {"/tmp"}},
  {"local d = {nn.zeros(4, 2), nn.tensor({1, 2, 1, 2}, 'i64')}; local p = os.tmpname(); " ..
  "nn.save(p, nn.Linear(2, 2)); nn.fit(nn.Linear(2, 2), d, {resume = p, progress = false})",
    "nn.fit", {"/tmp/"}},
}
