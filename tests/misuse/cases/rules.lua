-- tests/misuse/cases/rules.lua: the misuse cases of rules:
-- learning rules, nn.rules.*.
-- Each is {code, fname, values}: see tests/misuse/cases.lua.
return {
  {"nn.rules.backprop(5)", "nn.rules.backprop", {"number"}},
  {"nn.rules.backprop(nn.Linear(2, 2), {lr = 0.1, optm = 1})", "nn.rules.backprop", {"optm"}},
  {"nn.rules.feedback_alignment(nn.Linear(2, 2), {loss = 'mse'})",
    "nn.rules.feedback_alignment", {"mse"}},
  {"nn.rules.dfa(nn.Sequential(nn.ReLU()))", "nn.rules.dfa", {"Linear"}},
  {"nn.rules.forward_forward(nn.Sequential(nn.Linear(20, 5), nn.ReLU()), {goodness = 'max'})",
    "nn.rules.forward_forward", {"max"}},
  {"nn.rules.forward_forward(nn.Sequential(nn.Linear(4, 5), nn.ReLU()))",
    "nn.rules.forward_forward", {"10", "4"}},
  {"nn.rules.forward_gradient(nn.Linear(2, 2), {K = 0})", "nn.rules.forward_gradient", {"0"}},
  {"nn.rules.forward_gradient(nn.Linear(2, 2), {estimator = 'fd'})",
    "nn.rules.forward_gradient", {"fd"}},
  {"nn.rules.predictive_coding(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), {iters = -1})",
    "nn.rules.predictive_coding", {"-1"}},
  {"nn.rules.rtrl(nn.Linear(2, 2))", "nn.rules.rtrl", {"RNN"}},
  {"nn.rules.rtrl(nn.RNN(2, 3, {layers = 2}))", "nn.rules.rtrl", {"2"}},
  {"local r = nn.rules.backprop(nn.Linear(2, 3)); " ..
  "r:step(nn.zeros(4, 5), nn.tensor({1, 2, 1, 2}, 'i64'))",
    "nn.Linear", {"{4,5}"}},
  {"local r = nn.rules.feedback_alignment(nn.Sequential(nn.Linear(2, 3))); r:step(5, 6)",
    "nn.Linear", {"5"}},
  {"nn.rules.pfa(nn.Linear(2, 2), {expansion = -1})", "nn.rules.pfa", {"-1"}},
  {"local r = nn.rules.backprop(nn.Linear(2, 3)); r:step(nn.zeros(4, 2), nn.zeros(4))",
    "nn.cross_entropy", {"f32"}},
  {"local r = nn.rules.backprop(nn.Linear(2, 3)); r:predict(5)", "nn.Linear", {"5"}},
  {"local r = nn.rules.feedback_alignment(nn.Sequential(nn.Linear(2, 3))); " ..
  "r:angles(nn.zeros(4, 5), nn.tensor({1, 2, 1, 2}, 'i64'))",
    "nn.Linear", {"{4,5}"}},
  {"nn.rules.forward_forward(nn.Sequential(nn.Linear(20, 5), nn.ReLU()), {threshold = 'a'})",
    "nn.rules.forward_forward", {"a"}},
  {"nn.rules.forward_forward(nn.Sequential(nn.Linear(20, 5), nn.Tanh()))",
    "nn.rules.forward_forward", {"ReLU", "layer 1"}},
  {"nn.rules.predictive_coding(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), {loss = nn.l1_loss})",
    "nn.rules.predictive_coding", {"loss"}},
  {"local r = nn.rules.predictive_coding(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))); " ..
  "r:step(nn.zeros(4, 5), nn.tensor({1, 2, 1, 2}, 'i64'))",
    "nn.rules.predictive_coding", {"{4,5}"}},
  {"local r = nn.rules.rtrl(nn.RNN(2, 3)); r:step(nn.zeros(4, 5), nn.zeros(4, 3))",
    "nn.rules.rtrl", {"{4,5}"}},
  {"nn.rules.rtrl(nn.RNN(2, 3), {loss = 5})", "nn.rules.rtrl", {"number"}},
  {"nn.rules.continual_backprop(nn.Linear(2, 2))", "nn.rules.continual_backprop", {"Linear"}},
  {"nn.rules.pepita(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))", "nn.rules.pepita", {"Linear"}},
  {"nn.rules.forward_gradient(nn.Linear(2, 2), {sigma = -1})", "nn.rules.forward_gradient", {"-1"}},
  {"nn.rules.dfa(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), {seed = 2.5})",
    "nn.rules.dfa", {"2.5"}},
  {"nn.rules.backprop(nn.Linear(2, 2), 5)", "nn.rules.backprop", {"number"}},
  {"nn.rules.backprop(nn.Linear(2, 3), {loss = 5})", "nn.rules.backprop", {"5"}},
  {"nn.rules.backprop(nn.Linear(2, 3), {optim = 5})", "nn.rules.backprop", {"5"}},
  {"nn.rules.backprop(nn.Linear(2, 3), {lr = -1})", "nn.rules.backprop", {"-1"}},
  {"local m = nn.Sequential(nn.Linear(20, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU()); " ..
  "nn.rules.forward_forward(m):step(nn.zeros(4, 20), nn.tensor({11, 1, 1, 1}, 'i64'))",
    "nn.rules.forward_forward", {"11"}},
  {"local m = nn.Sequential(nn.Linear(20, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU()); " ..
  "nn.rules.forward_forward(m):step(nn.zeros(4, 20), nn.tensor({0, 1, 1, 1}, 'i64'))",
    "nn.rules.forward_forward", {"0"}},
  {"local m = nn.Sequential(nn.Linear(20, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU()); " ..
  "nn.rules.forward_forward(m, {classes = 2.5})",
    "nn.rules.forward_forward", {"2.5"}},
  {"local m = nn.Sequential(nn.Linear(20, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU()); " ..
  "nn.rules.forward_forward(m):predict(nn.zeros(4, 5))",
    "nn.rules.forward_forward", {"{4,5}"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.predictive_coding(m, {step = 0})",
    "nn.rules.predictive_coding", {"0"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.predictive_coding(m, {loss = nn.mse_loss}):step(nn.zeros(4, 2), nn.zeros(4, 5))",
    "nn.rules.predictive_coding", {"{4,5}"}},
  {"nn.rules.rtrl(nn.RNN(2, 3), {readout = 5})", "nn.rules.rtrl", {"number"}},
  {"nn.rules.rtrl(nn.RNN(2, 3)):step(nn.zeros(4, 0, 2), nn.zeros(4, 3))",
    "nn.rules.rtrl", {"{4,0,2}"}},
  {"nn.rules.rtrl(nn.RNN(2, 3)):predict(nn.zeros(4, 5, 2))", "nn.rules.rtrl", {"model"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.continual_backprop(m, {bogus = 1})",
    "nn.rules.continual_backprop", {"bogus"}},
  {"nn.rules.forward_gradient(nn.Linear(2, 2), {K = 2.5})", "nn.rules.forward_gradient", {"2.5"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.pepita(m, {F_scale = 'a'})",
    "nn.rules.pepita", {"a"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.pfa(m, {feedback_decay = 'a'})",
    "nn.rules.pfa", {"a"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.feedback_alignment(m):angles(5, 6)",
    "nn.Linear", {"5"}},
  {"local m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)); " ..
  "nn.rules.dfa(m):step(nn.zeros(4, 2), nn.tensor({1, 2, 3, 1}, 'i64'))",
    "nn.cross_entropy", {"3"}},
}
