-- tests/misuse/cases/viz.lua: the misuse cases of viz:
-- viz.open, v:plot, v:watch, v:partition, the fit hooks.
-- Each is {code, fname, values}: see tests/misuse/cases.lua.
return {
  {"viz.open{backend = 'opengl'}", "viz.open", {"opengl"}},
  {"viz.open{width = -5, backend = 'offscreen'}", "viz.open", {"-5"}},
  {"viz.open{backend = 'offscreen', widht = 300}", "viz.open", {"widht"}},
  {"viz.open(5)", "viz.open", {"5"}},
  {"viz.open{backend = 'offscreen'}:watch(5)", "watch", {"number"}},
  {"viz.open{backend = 'offscreen'}:watch(nn.zeros(2))", "watch", {"tensor"}},
  {"viz.open{backend = 'offscreen'}:plot('loss', 'a', 2)", "plot", {"a"}},
  {"viz.open{backend = 'offscreen'}:plot(5, 1, 2)", "plot", {"5"}},
  {"viz.open{backend = 'offscreen'}:save('/nonexistent/v.png')", "save", {"/nonexistent/v.png"}},
  {"viz.open{backend = 'offscreen'}:partition(nn.Linear(3, 2))", "partition", {"nil"}},
  {"viz.open{backend = 'offscreen', title = 5}", "viz.open", {"title"}},
  {"viz.open{backend = 'offscreen', height = 0}", "viz.open", {"0"}},
  {"viz.open{backend = 5}", "viz.open", {"5"}},
  {"viz.open{backend = 'offscreen', rows = -1}", "viz.open", {"-1"}},
  {"viz.open{backend = 'offscreen', keys = 5}", "viz.open", {"5"}},
  {"viz.open{backend = 'offscreen'}:plot('loss', {1, 2}, {1})", "plot", {"2", "1"}},
  {"viz.open{backend = 'offscreen'}:watch(nn.Linear(2, 2), {every = 0})", "watch", {"0"}},
  {"viz.open{backend = 'offscreen'}:watch(nn.Linear(2, 2), {bogus = 1})", "watch", {"bogus"}},
  {"viz.open{backend = 'offscreen'}:partition(nn.Linear(2, 2), {xlim = {1}, ylim = {-1, 1}, res = 8})",
    "partition", {"xlim"}},
  {"viz.open{backend = 'offscreen'}:partition(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), {xlim = {-1, 1}, ylim = {-1, 1}, res = 8})",
    "partition", {"3"}},
  {"viz.open{backend = 'offscreen'}:partition(nn.Linear(2, 2), {xlim = {-1, 1}, ylim = {-1, 1}, res = -1})",
    "partition", {"-1"}},
  {"viz.open{backend = 'offscreen'}:save(5)", "save", {"5"}},
  {"viz.fit_hooks(5)", "viz.fit_hooks", {"5"}},
  {"viz.open{backend = 'offscreen'}.plot(1, 2, 3)", "plot", {"v:method"}},
  {"viz.open{backend = 'offscreen', width = 1e9}", "viz.open", {"1000000000"}},
  {"viz.open{backend = 'offscreen', width = 2.5}", "viz.open", {"2.5"}},
  {"viz.open{backend = 'offscreen', headless = 5}", "viz.open", {"headless"}},
  {"local v = viz.open{backend = 'offscreen'}; v:plot('loss', {1, 'a'}, {1, 2})", "plot", {"a"}},
  {"local v = viz.open{backend = 'offscreen'}; v:watch(nn.Linear(2, 2), {probe = 5})",
    "watch", {"probe"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)); " ..
  "v:partition(m, {plane = {1, 2}})",
    "partition", {"plane"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)); " ..
  "v:partition(m, {plane = {nn.zeros(2), nn.zeros(2), nn.zeros(2)}, res = 8})",
    "partition", {"plane"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)); " ..
  "v:partition(m, {xlim = {1, -1}, ylim = {-1, 1}, res = 8})",
    "partition", {"xlim"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)); " ..
  "v:partition(m, {xlim = {-1, 1}, ylim = {-1, 1}, res = 1e9})",
    "partition", {"1000000000"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)); viz.fit_hooks(m, 5)",
    "viz.fit_hooks", {"number"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "local m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)); " ..
  "v:partition(m, {xlim = {-1, 1}, ylim = {-1, 1}, res = 8, points = 5})",
    "partition", {"points", "5"}},
  {"local v = viz.open{backend = 'offscreen'}; v:plot('loss', nn.zeros(3), nn.zeros(2))",
    "plot", {"3", "2"}},
  {"viz.open{backend = 'offscreen', width = math.maxinteger}", "viz.open", {"9223372036854775807"}},
  {"viz.open{backend = 'offscreen', width = 100000, height = 100000}", "viz.open", {"100000"}},
  {"viz.open{backend = 'offscreen', rows = 2.5}", "viz.open", {"2.5"}},
  {"viz.open{backend = 'window', title = {}}", "viz.open", {"title"}},
  {"local v = viz.open{backend = 'offscreen'}; v:plot('loss', 1, 0/0); v:save(5)", "save", {"5"}},
  {"local v = viz.open{backend = 'offscreen'}; v:plot('loss', nn.zeros(2, 'u8'), {1, 2, 3})",
    "plot", {"2", "3"}},
  {"local v = viz.open{backend = 'offscreen'}; " ..
  "v:watch(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), {every = 2.5})",
    "watch", {"2.5"}},
  {"local v = viz.open{backend = 'offscreen'}; v:save('/tmp')", "save", {"/tmp"}},
}
