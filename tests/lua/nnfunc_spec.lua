-- tests/lua/nnfunc_spec.lua: the neural-net functions of nn/lua/lnnfunc.c against PyTorch's
-- values (computed once with /usr/bin/python3 and torch.nn.functional, in f64).

local function f64(values) return nn.tensor(values, "f64") end

local x = f64{-2.5, -0.7, 0, 0.3, 1.9}
local tol = 1e-12

describe("activations", function()
  it("match PyTorch, with their parameters", function()
    th.same(nn.leaky_relu(x, 0.1), {-0.25, -0.07, 0, 0.3, 1.9}, tol)
    th.same(nn.leaky_relu(x), {-0.025, -0.007, 0, 0.3, 1.9}, tol)
    th.same(nn.elu(x, 0.5), {-0.4589575006880506, -0.25170734810429524, 0, 0.3, 1.9}, tol)
    th.same(nn.gelu(x), {-0.015524163314440398, -0.1693745565561511, 0, 0.1853734266566858,
      1.8454385363495966}, tol)
    th.same(nn.gelu(x, "tanh"), {-0.015084266089998577, -0.16942986529488321, 0,
      0.18537092354275922, 1.8454512344553327}, tol)
    th.same(nn.silu(x), {-0.18964545005310887, -0.2322685594822837, 0, 0.1723327550434977,
      1.652793898710304}, tol)
    th.same(nn.swish(x, 2), {-0.01673212731071214, -0.13847127800899275, 0,
      0.1936968918677386, 1.8584255852213518}, tol)
    th.same(nn.mish(x), {-0.19681620390653337, -0.2678702347955009, 0, 0.20800137234811503,
      1.8367436005523152}, tol)
    th.same(nn.softplus(x, 2, 3), {0.003357674244559034, 0.11020870495922547,
      0.34657359027997264, 0.5187439752429428, 1.9}, tol)
    th.same(nn.hardtanh(x, -0.5, 1), {-0.5, -0.5, 0, 0.3, 1}, tol)
    th.same(nn.hardtanh(x), {-1, -0.7, 0, 0.3, 1}, tol)
    th.same(nn.relu2(x), {0, 0, 0, 0.09, 3.61}, tol)
    th.same(nn.smelu(x), {0, 0.0225, 0.25, 0.4225, 1.9}, tol)
    th.same(nn.snake(x, 2), {-2.040232117730887, -0.21444441483283544, 0, 0.4594105613808316,
      2.087185039354436}, tol)
    th.same(nn.relu(x), {0, 0, 0, 0.3, 1.9})
    th.same(nn.sigmoid(f64{0}), {0.5})
  end)

  it("are tensor methods too", function()
    th.same(x:gelu("tanh"), nn.gelu(x, "tanh"):totable())
    th.same(x:leaky_relu(0.2), nn.leaky_relu(x, 0.2):totable())
    th.same(x:snake(), nn.snake(x, 1):totable())
    assert.equal("f32", nn.tensor({1, 2}, "i64"):silu():dtype())
  end)

  it("softmax and log_softmax along a dim, 1-based, default the last", function()
    local m = f64{{1, 2, 3}, {0.5, -1, 4}}
    th.same(nn.softmax(m), {{0.09003057317038045, 0.2447284710547976, 0.6652409557748218},
      {0.0291217615374784, 0.00649794331566194, 0.9643802951468596}}, tol)
    th.same(m:softmax(1), {{0.6224593312018546, 0.9525741268224334, 0.2689414213699951},
      {0.37754066879814546, 0.04742587317756679, 0.7310585786300049}}, tol)
    th.same(m:log_softmax(-1), {{-2.4076059644443806, -1.4076059644443804, -0.4076059644443804},
      {-3.5362695651247793, -5.036269565124779, -0.03626956512477912}}, tol)
    th.same(nn.softmax(f64{1, 1}), {0.5, 0.5})
    th.fails(function() nn.softmax(m, 3) end, "nn.softmax: dim 3 is out of range")
  end)

  it("softmax and log_softmax over rows shared among threads: their compositions' values in "
    .. "f32, both modes, and the same bits at 1 and 2 threads", function()
    local script = [[
      local nn = require "nn"
      nn.manual_seed(5)
      local x, g = nn.randn(64, 4096) * 4, nn.randn(64, 4096)
      local out = {}
      for _, f in ipairs({"softmax", "log_softmax"}) do
        local v = x:clone():requires_grad_()
        local y = nn[f](v)
        y:backward(g)
        local _, t = nn.jvp(function(a) return nn[f](a) end, {x}, {g})
        out[f], out[f .. "_grad"], out[f .. "_jvp"] = y, v.grad, t
      end
      out.middle = nn.softmax(nn.randn(8, 512, 64), 2)
      nn.save(os.getenv("OUT"), out)
    ]]
    local relua = io.popen("readlink /proc/$PPID/exe"):read("l")
    local base = os.tmpname()
    local function run(threads) -- the file's bytes and its tensors
      local path = string.format("%s.%d.safetensors", base, threads)
      local p = io.popen(string.format("OUT=%s RELUA_THREADS=%d %s -e %q 2>&1", path, threads,
        relua, (script:gsub("\n", " "))))
      local msg = p:read("a")
      assert.is_true(p:close(), msg)
      local f = io.open(path, "rb")
      local bytes = f:read("a")
      f:close()
      local tensors = nn.load(path)
      os.remove(path)
      return bytes, tensors
    end
    local one, got = run(1)
    os.remove(base)
    assert.is_true(one == run(2), "1 and 2 threads give the same bits")
    nn.manual_seed(5)
    local x, g = nn.randn(64, 4096) * 4, nn.randn(64, 4096)
    local e = (x - x:max(2, true)):exp()
    local p = e / e:sum(2, true)
    local gp = (g * p):sum(2, true)
    local z = nn.randn(8, 512, 64)
    local ez = (z - z:max(2, true)):exp()
    local function near(a, b) -- within 1e-5 of b's largest magnitude
      local err = (a - b):abs():max():item() / b:abs():max():item()
      assert.is_true(err < 1e-5, "relative error " .. err)
    end
    near(got.softmax, p)
    near(got.log_softmax, (x - x:max(2, true)) - e:sum(2, true):log())
    near(got.softmax_grad, p * (g - gp))
    near(got.softmax_jvp, p * (g - gp))
    near(got.log_softmax_grad, g - p * g:sum(2, true))
    near(got.log_softmax_jvp, g - gp)
    near(got.middle, ez / ez:sum(2, true))
  end)

  it("have PyTorch's gradients", function()
    local function grad(f)
      local v = x:clone():requires_grad_()
      f(v):sum():backward()
      return v.grad
    end
    th.same(grad(nn.gelu), {-0.03761108590814519, 0.023385898866340155, 0.5,
      0.7323277668271099, 1.095953488255884}, 1e-10)
    th.same(grad(nn.mish), {-0.10974357275018566, 0.1844160732567819, 0.6, 0.7828272995511304,
      1.0749275910630465}, 1e-10)
    th.same(grad(function(t) return t:elu(0.5) end),
      {0.0410424993119494, 0.24829265189570476, 0.5, 1, 1}, 1e-10)
    local m = f64{{1, 2, 3}, {0.5, -1, 4}}:requires_grad_()
    local w = f64{{1, -2, 0.5}, {3, 1, -1}}
    local s = (nn.log_softmax(m) * w):sum()
    s:backward()
    th.same(m.grad, {{1.0450152865851903, -1.8776357644726012, 0.8326204778874109},
      {2.912634715387565, 0.9805061700530142, -3.893140885440579}}, 1e-10)
  end)

  it("check their parameters", function()
    th.fails(function() nn.gelu(x, "fast") end, 'nn.gelu: approximate must be "none" or "tanh", got "fast"')
    th.fails(function() nn.gelu(x, 1) end, "nn.gelu: approximate")
    th.fails(function() nn.smelu(x, 0) end, "nn.smelu: beta must be positive")
    th.fails(function() nn.hardtanh(x, 1, -1) end, "nn.hardtanh: lower bound 1 is above upper")
    th.fails(function() nn.softplus(x, 0) end, "nn.softplus: beta must not be 0")
    th.fails(function() nn.leaky_relu(x, "a") end, "nn.leaky_relu: argument 2 must be a number")
    th.fails(function() nn.relu2("x") end, "nn.relu2: argument 1 must be a tensor")
  end)
end)

describe("layers as functions", function()
  local X = f64{{1, 2, 3}, {-1, 0.5, 2}}
  local W = f64{{0.1, 0.2, 0.3}, {-0.5, 0.4, 0}, {1, -1, 2}, {0, 0.3, -0.2}}
  local B = f64{0.5, -0.5, 1, 0}

  it("linear", function()
    th.same(nn.linear(X, W, B), {{1.9, -0.2, 6, 0}, {1.1, 0.2, 3.5, -0.25}}, tol)
    th.same(nn.linear(X, W), {{1.4, 0.3, 5, 0}, {0.6, 0.7, 2.5, -0.25}}, tol)
    th.fails(function() nn.linear(X, W:t()) end, "nn.linear: input has 3 features but weight")
  end)

  it("layer_norm", function()
    local Y = f64{{1, 2, 4, 7}, {-1, 0, 3, 2}}
    local g, b = f64{1, 0.5, 2, -1}, f64{0, 0.1, -0.2, 0.3}
    th.same(nn.layer_norm(Y, 4, g, b, 1e-5), {{-1.0910884120486357, -0.22732652361459074,
      0.2364353648194541, -1.2275237768680898}, {-1.2649085342528128, -0.2162271335632032,
      2.3298170685056263, -0.33245426712640663}}, 1e-9)
    local plain = {{-1.0910884120486357, -0.6546530472291815, 0.21821768240972705,
      1.5275237768680898}, {-1.2649085342528128, -0.6324542671264064, 1.2649085342528132,
      0.6324542671264066}}
    th.same(nn.layer_norm(Y, {4}), plain, 1e-9)
    th.same(nn.layer_norm(Y), plain, 1e-9)
    th.fails(function() nn.layer_norm(Y, 3) end, "nn.layer_norm: normalized size 3")
    th.fails(function() nn.layer_norm(Y, {2, 4}) end, "only the last dim")
  end)

  it("batch_norm, training (moving the running statistics) and evaluating", function()
    local Z = f64{{1, 2}, {3, -1}, {0, 5}}
    local rm, rv = f64{0.5, -0.5}, f64{2, 1}
    local w, b = f64{1.5, -1}, f64{0.1, 0.2}
    th.same(nn.batch_norm(Z, rm, rv, w, b, true, 0.2, 1e-5), {{-0.30089057429386146, 0.2},
      {2.1044528714693076, 1.4247438507721388}, {-1.503562297175446, -1.024743850772139}}, 1e-9)
    th.same(rm, {0.6666666666666667, 0}, 1e-12)
    th.same(rv, {2.066666666666667, 2.6}, 1e-12)
    th.same(nn.batch_norm(Z, rm, rv, w, b, false, 0.2, 1e-5), {{0.4478033303614738,
      -1.0403449606156077}, {2.5346233125303166, 0.8201724803078039}, {-0.5956066607229477,
      -2.900862401539019}}, 1e-9)
    th.same(nn.batch_norm(Z, nil, nil, nil, nil, true):mean(1), {0, 0}, 1e-12)
    th.fails(function() nn.batch_norm(Z, rm, rv, w, b, "yes") end,
      "nn.batch_norm: argument 6 must be a boolean")
  end)

  it("dropout", function()
    local ones = nn.ones(1000)
    th.same(nn.dropout(x, 0.5, false), x:totable())
    th.same(nn.dropout(x, 0), x:totable())
    nn.manual_seed(7)
    local d = nn.dropout(ones, 0.5)
    local kept = d:gt(0):sum():item()
    assert.is_true(kept > 400 and kept < 600, kept)
    assert.equal(2, d:max():item())
    th.fails(function() nn.dropout(ones, 1.5) end, "nn.dropout:", "[0, 1]")
  end)

  it("embedding, with 1-based indices", function()
    local E = f64{{1, 2}, {3, 4}, {5, 6}}
    local idx = nn.tensor({{1, 3}, {2, 1}}, "i64")
    th.same(nn.embedding(idx, E), {{{1, 2}, {5, 6}}, {{3, 4}, {1, 2}}})
    th.same(nn.embedding({3, 3}, E), {{5, 6}, {5, 6}})
    th.fails(function() nn.embedding(nn.tensor({4}, "i64"), E) end,
      "nn.embedding: index 4 is out of range for 3 embeddings")
    th.fails(function() nn.embedding(nn.tensor({0}, "i64"), E) end, "index 0 is out of range")
    th.fails(function() nn.embedding(nn.tensor{1}, E) end, "i64")
    local w = E:clone():requires_grad_()
    nn.embedding(idx, w):sum():backward()
    th.same(w.grad, {{2, 2}, {1, 1}, {1, 1}})
  end)
end)

describe("losses", function()
  local logits = f64{{1, 2, 0.5, -1}, {0, 0, 3, 1}, {2, -1, 0, 0.5}}
  local target = nn.tensor({1, 4, 2}, "i64")

  it("cross_entropy with each reduction, label smoothing and ignore_index", function()
    th.same(nn.cross_entropy(logits, target), 2.349509701237951, tol)
    th.same(nn.cross_entropy(logits, target, {reduction = "sum"}), 7.048529103713854, tol)
    th.same(nn.cross_entropy(logits, target, "sum"), 7.048529103713854, tol)
    th.same(nn.cross_entropy(logits, target, {reduction = "none"}),
      {1.495181898085856, 2.2109976232381756, 3.342349582389822}, tol)
    th.same(nn.cross_entropy(logits, target, {label_smoothing = 0.1}), 2.316176367904618, tol)
    th.same(nn.cross_entropy(logits, target, {ignore_index = 4}), 2.418765740237839, tol)
    th.same(nn.cross_entropy(logits, {1, 4, 2}), 2.349509701237951, tol)
    local l = logits:clone():requires_grad_()
    nn.cross_entropy(l, target, {label_smoothing = 0.1}):backward()
    th.same(l.grad, {{-0.23359739398393295, 0.1948200125329591, 0.03699630526450186,
      0.001781076186472078}, {0.005105457550880961, 0.005105457550880961, 0.2615919971745507,
      -0.2718029122763126}, {0.22836664096205816, -0.29654873553041705, 0.023700524730032414,
      0.044481569838326594}}, 1e-10)
  end)

  it("nll_loss, mse_loss, l1_loss, bce_with_logits", function()
    local lp = nn.log_softmax(logits)
    th.same(nn.nll_loss(lp, target), 2.349509701237951, tol)
    th.same(nn.nll_loss(lp, target, {reduction = "sum"}), 7.048529103713854, tol)
    local p, q = f64{{0.5, -1}, {2, 0}}, f64{{1, 1}, {0, 0.5}}
    th.same(nn.mse_loss(p, q), 2.125, tol)
    th.same(nn.mse_loss(p, q, {reduction = "sum"}), 8.5, tol)
    th.same(nn.l1_loss(p, q), 1.25, tol)
    th.same(nn.l1_loss(p, q, {reduction = "none"}), {{0.5, 2}, {2, 0.5}}, tol)
    th.same(nn.bce_with_logits(p, f64{{1, 0}, {0.3, 1}}), 0.7518534658253119, tol)
  end)

  it("name bad targets as the user wrote them, with the class count", function()
    th.fails(function() nn.cross_entropy(logits, nn.tensor({1, 5, 2}, "i64")) end,
      "nn.cross_entropy: target 5 is out of range for 4 classes")
    th.fails(function() nn.cross_entropy(logits, nn.tensor({0, 1, 2}, "i64")) end,
      "nn.cross_entropy: target 0 is out of range for 4 classes")
    th.fails(function() nn.nll_loss(logits, {1, 2, -7}) end,
      "nn.nll_loss: target -7 is out of range for 4 classes")
    th.fails(function() nn.cross_entropy(logits, nn.tensor{1, 2, 3}) end,
      "nn.cross_entropy:", "i64")
    th.fails(function() nn.cross_entropy(logits, nn.tensor({1, 2}, "i64")) end,
      "nn.cross_entropy: target of shape {2} does not match input {3,4}")
    th.fails(function() nn.cross_entropy(logits, target, {reduction = "avg"}) end,
      'nn.cross_entropy: reduction must be "mean", "sum" or "none", got "avg"')
    th.fails(function() nn.cross_entropy(logits, target, {label_smoothing = "a"}) end,
      "option label_smoothing must be a number")
    th.fails(function() nn.cross_entropy(logits, target, {label_smoothing = 2}) end,
      "label_smoothing must be in [0, 1]")
    th.fails(function() nn.cross_entropy(logits, target, {ignore_index = 1.5}) end,
      "ignore_index must be an integer")
    th.fails(function() nn.mse_loss(f64{1, 2}, f64{1, 2, 3}) end, "nn.mse_loss:", "{3}")
    th.fails(function() nn.mse_loss(f64{1}, f64{1}, 5) end, "nn.mse_loss: argument 3")
  end)
end)

describe("fused optimizer steps", function()
  local grads = {f64{0.5, -1, 2}, f64{0.1, 0.3, -0.4}, f64{-0.2, 0, 1}}

  -- three steps of update(p, g, step) from p = {1, -2, 0.5}
  local function run(update)
    local p = f64{1, -2, 0.5}
    for step, g in ipairs(grads) do update(p, g, step) end
    return p
  end

  it("SGD matches torch.optim.SGD", function()
    local buf = nn.zeros(3, "f64")
    th.same(run(function(p, g, t)
      nn._sgd_step(p, g, buf, {lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.01}, t)
    end), {0.831465558191, -1.722250616382, -0.2715037212295}, 1e-12)
    buf = nn.zeros(3, "f64")
    th.same(run(function(p, g, t)
      nn._sgd_step(p, g, buf, {lr = 0.1, momentum = 0.5, dampening = 0.3, maximize = true}, t)
    end), {1.084, -2.1435, 0.878}, 1e-12)
    th.same(run(function(p, g, t) nn._sgd_step(p, g, nil, {lr = 0.1}, t) end),
      {0.96, -1.93, 0.24}, 1e-12)
  end)

  it("Adam and AdamW match torch.optim", function()
    local m, v = nn.zeros(3, "f64"), nn.zeros(3, "f64")
    th.same(run(function(p, g, t)
      nn._adam_step(p, g, m, v, {lr = 0.01, beta1 = 0.8, beta2 = 0.9, eps = 1e-6,
        weight_decay = 0.1}, t)
    end), {0.9762524611682887, -1.9788235831222192, 0.4784731963066935}, 1e-12)
    m, v = nn.zeros(3, "f64"), nn.zeros(3, "f64")
    th.same(run(function(p, g, t)
      nn._adam_step(p, g, m, v, {lr = 0.01, weight_decay = 0.1, decoupled = true}, t)
    end), {0.9755570725927106, -1.976444498770757, 0.47705569291001887}, 1e-12)
  end)

  it("RMSprop matches torch.optim.RMSprop", function()
    local sq, avg, buf = nn.zeros(3, "f64"), nn.zeros(3, "f64"), nn.zeros(3, "f64")
    th.same(run(function(p, g)
      nn._rmsprop_step(p, g, sq, avg, buf, {lr = 0.01, alpha = 0.9, momentum = 0.5,
        centered = true, weight_decay = 0.1})
    end), {0.9309286007577269, -1.9402284317296994, 0.43394660219269887}, 1e-12)
    sq = nn.zeros(3, "f64")
    th.same(run(function(p, g) nn._rmsprop_step(p, g, sq, nil, nil, {lr = 0.01}) end),
      {0.9171210980353726, -1.9288675206817028, 0.3753335248676468}, 1e-12)
  end)

  it("explain bad arguments", function()
    local p = f64{1, 2}
    th.fails(function() nn._sgd_step(p, f64{1}, nil, {}, 1) end,
      "nn._sgd_step: gradient has shape {1} but the parameter has shape {2}")
    th.fails(function() nn._sgd_step(p, p, nil, {lr = "x"}, 1) end, "option lr must be a number")
    th.fails(function() nn._sgd_step(p, p, nil, {nesterov = 1}, 1) end,
      "option nesterov must be a boolean")
    th.fails(function() nn._sgd_step(p, p, nil, nil, 1) end, "argument 4 must be a table")
    th.fails(function() nn._adam_step(p, p, p, p, {}, 0) end, "nn._adam_step: step must be >= 1")
    th.fails(function() nn._adam_step(p, p, nn.zeros(2), p, {}, 1) end, "f32", "f64")
    th.fails(function() nn._rmsprop_step(p, p, p, nil, nil, {centered = true}) end,
      "nn._rmsprop_step:")
  end)
end)
