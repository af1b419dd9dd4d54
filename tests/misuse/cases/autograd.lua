-- tests/misuse/cases/autograd.lua: the misuse cases of autograd:
-- backward, nn.grad, nn.jvp, nn.Function, hooks, gradcheck, anomalies.
-- Each is {code, fname, values}: see tests/misuse/cases.lua.
return {
  {"nn.zeros(2):backward()", "backward", {"grad"}},
  {"local x = nn.ones(2):requires_grad_(); (x * 2):backward()", "backward", {"{2}"}},
  {"local x = nn.ones(2):requires_grad_(); local y = (x * x):sum(); y:backward(); y:backward()",
    "backward", {"retain_graph"}},
  {"local w = nn.ones(2):requires_grad_(); local y = (w * w):sum(); " ..
  "nn.no_grad(function() w:mul_(10) end); y:backward()",
    "mul", {"version"}},
  {"nn.ones(2, 'i64'):requires_grad_()", "nn.requires_grad_", {"i64"}},
  {"local x = nn.ones(2):requires_grad_(); nn.grad((x * 2):sum(), {nn.ones(2)})",
    "nn.grad", {"inputs[1]"}},
  {"nn.grad(5, {})", "nn.grad", {"5"}},
  {"nn.no_grad(5)", "nn.no_grad", {"5"}},
  {"nn.ones(2):register_hook(5)", "nn.register_hook", {"5"}},
  {"nn.Function{forward = 5}", "nn.Function", {"forward", "number"}},
  {"local f = nn.Function{forward = function(ctx, x) return x * 2 end}; " ..
  "local x = nn.ones(2):requires_grad_(); f(x):sum():backward()",
    "backward", {"nn.Function"}},
  {"nn.jvp(function(x) return x end, {nn.ones(2)}, {nn.ones(3)})", "nn.jvp", {"{2}", "{3}"}},
  {"nn.gradcheck(function(x) return x end, 5)", "nn.gradcheck", {"number"}},
  {"local x = nn.ones(2):requires_grad_(); x:add_(1)", "nn.add_", {"requires grad"}},
  {"local x = nn.ones(2):requires_grad_(); (x * 2):sum():backward(nn.ones(3))",
    "backward", {"{3}"}},
  {"nn.set_grad_enabled('yes')", "nn.set_grad_enabled", {"string"}},
  {"nn.detect_anomaly(5)", "nn.detect_anomaly", {"5"}},
  {"local x = nn.ones(2):requires_grad_(); x.grad = 5", "grad", {"number"}},
  {"local x = nn.ones(2):requires_grad_(); x.grad = nn.zeros(3)", "grad", {"{3}", "{2}"}},
  {"local x = nn.ones(2); x.requires_grad = 'yes'", "requires_grad", {"string"}},
  {"local x = nn.ones(2); x.grad_fn = 1", "grad_fn", {"grad_fn"}},
  {"local x = nn.ones(2):requires_grad_(); (x * 2):sum():backward(5)", "backward", {"5"}},
  {"local x = nn.ones(2):requires_grad_(); (x * 2):sum():backward(nil, {retain_grap = true})",
    "backward", {"retain_grap"}},
  {"local x = nn.ones(2):requires_grad_(); nn.grad((x * 2):sum(), {x}, 5)", "nn.grad", {"5"}},
  {"local x = nn.ones(2):requires_grad_(); nn.grad(x * 2, {x}, {nn.ones(3)})",
    "nn.grad", {"{3}", "{2}"}},
  {"nn.jvp(5, {}, {})", "nn.jvp", {"5"}},
  {"nn.jvp(function(x) return x end, {nn.ones(2)}, {})", "nn.jvp", {"tangents"}},
  {"local f = nn.Function{forward = function(ctx, x) return x * 2 end, backward = function(ctx, g) return nn.ones(3) end}; " ..
  "local x = nn.ones(2):requires_grad_(); f(x):sum():backward()",
    "backward", {"{3}", "{2}"}},
  {"local f = nn.Function{forward = function(ctx, x) return x * 2 end, backward = function(ctx, g) return 'a' end}; " ..
  "local x = nn.ones(2):requires_grad_(); f(x):sum():backward()",
    "backward", {"string"}},
  {"local f = nn.Function{forward = function(ctx, x) return 5 end, backward = function(ctx, g) return g end}; " ..
  "f(nn.ones(2):requires_grad_())",
    "forward", {"number"}},
  {"local x = nn.ones(2):requires_grad_(); x:register_hook(function(g) return nn.ones(3) end); " ..
  "(x * 2):sum():backward()",
    "hook", {"{3}", "{2}"}},
  {"local x = nn.ones(2):requires_grad_(); x:register_hook(function(g) return 'a' end); " ..
  "(x * 2):sum():backward()",
    "hook", {"string"}},
  {"nn.detect_anomaly(true); nn.log(nn.zeros(2))", "log", {"inf"}},
  {"nn.jvp(function(x) return 5 end, {nn.ones(2)}, {nn.ones(2)})", "nn.jvp", {"number"}},
  {"local x = nn.ones(2):requires_grad_(); nn.grad((x * 2):sum(), {})", "nn.grad", {"empty"}},
  {"local x = nn.ones(2):requires_grad_(); nn.grad({}, {x})", "nn.grad", {"empty"}},
  {"local f = nn.Function{forward = function(ctx, x) return x * 2 end, backward = function(ctx, g) return g, g, g end}; " ..
  "local x = nn.ones(2):requires_grad_(); f(x):sum():backward()",
    "backward", {"3"}},
  {"nn.enable_grad(5)", "nn.enable_grad", {"5"}},
  {"nn.straight_through(5)", "nn.straight_through", {"5"}},
  {"nn.ones(2):requires_grad_('yes')", "nn.requires_grad_", {"string"}},
  {"nn.gradcheck(function(x) return x end, {nn.ones(2, 'f64'):requires_grad_()}, {eps = -1})",
    "nn.gradcheck", {"-1"}},
  {"nn.gradcheck(function(x) return 'a' end, {nn.ones(2, 'f64'):requires_grad_()})",
    "nn.gradcheck", {"no float tensor"}},
  {"nn.gradcheck(function(x) return x end, {nn.ones(2, 'f64'):requires_grad_()}, {epss = 1})",
    "nn.gradcheck", {"epss"}},
  {"local x = nn.ones(2):requires_grad_(); (x * 2):sum():backward(nn.ones(1), 5)",
    "backward", {"5"}},
  {"local f = nn.Function{forward = function(ctx, x) return x end, backward = function(ctx, g) return g end}; " ..
  "f(5)",
    "nn.Function", {"number"}},
  {"local f = nn.Function{forward = function(ctx, x) error('my bug') end, backward = function(ctx, g) return g end}; " ..
  "f(nn.ones(2))",
    "my bug", {}},
  {"local x = nn.ones(2):requires_grad_(); local y = x * 2; y:backward(nn.ones(2)); " ..
  "y:backward(nn.ones(2))",
    "backward", {"retain_graph"}},
  {"local x = nn.ones(2):requires_grad_(); nn.grad(x * 2, {x})", "nn.grad", {"{2}"}},
}
