-- tests/lua/cnn_spec.lua: pooling, BatchNorm2d and the other layers of a CNN, against
-- plain Lua loops over the definitions (tests/parity/cnn.lua checks them against PyTorch).

-- the pool of x (C, H, W as nested tables) computed by loops: reduce(values, count) per
-- window of k, stride s, padding p, count the padded window's size
local function pool_ref(x, k, s, p, reduce)
  local out = {}
  local H, W = #x[1], #x[1][1]
  local OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
  for c = 1, #x do
    out[c] = {}
    for oh = 1, OH do
      out[c][oh] = {}
      for ow = 1, OW do
        local vals = {}
        for i = 1, k do
          for j = 1, k do
            local h, w = (oh - 1) * s - p + i, (ow - 1) * s - p + j
            if h >= 1 and h <= H and w >= 1 and w <= W then vals[#vals + 1] = x[c][h][w] end
          end
        end
        out[c][oh][ow] = reduce(vals, k * k)
      end
    end
  end
  return out
end

local function max_of(v) return math.max(table.unpack(v)) end
local function mean_padded(v, n)
  local s = 0
  for _, e in ipairs(v) do s = s + e end
  return s / n
end

describe("pooling", function()
  nn.manual_seed(5)
  local x = nn.randn(1, 2, 7, 6, "f64")

  it("max_pool2d and avg_pool2d are the windows' max and mean", function()
    for _, ksp in ipairs{{2, 2, 0}, {3, 2, 1}, {3, 1, 1}, {2, 1, 0}} do
      local k, s, p = table.unpack(ksp)
      th.same(nn.max_pool2d(x, k, s, p)[1], pool_ref(x[1]:totable(), k, s, p, max_of), 1e-12)
      th.same(nn.avg_pool2d(x, k, s, p)[1], pool_ref(x[1]:totable(), k, s, p, mean_padded), 1e-12)
      th.same(nn.MaxPool2d(k, s, p)(x), nn.max_pool2d(x, k, {stride = s, padding = p}):totable(), 0)
    end
  end)

  it("max_pool2d sends the gradient to the arg-max, adding where windows overlap", function()
    local v = nn.tensor({{{1, 5, 2}, {0, 3, 4}, {7, 1, 6}}}, "f64")
    v.requires_grad = true
    local y = nn.max_pool2d(v, 2, 1) -- windows: 5, 5, 7, 6
    th.same(y, {{{5, 5}, {7, 6}}})
    y:backward(nn.tensor({{{1, 10}, {100, 1000}}}, "f64"))
    th.same(v.grad, {{{0, 11, 0}, {0, 0, 0}, {100, 0, 1000}}})
  end)

  it("avg_pool2d without count_include_pad divides by the input elements only", function()
    local ones = nn.ones(1, 1, 3, 3)
    th.same(nn.avg_pool2d(ones, 3, {stride = 1, padding = 1, count_include_pad = false}),
      {{{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}}})
    assert(math.abs(nn.avg_pool2d(ones, 3, 1, 1)[1][1][1][1] - 4 / 9) < 1e-7)
  end)

  it("ceil_mode keeps a last partial window", function()
    local five = nn.randn(1, 1, 5, 5)
    assert.are.equal("{1,1,3,3}", th.shape(nn.max_pool2d(five, 2, {ceil_mode = true})))
    assert.are.equal("{1,1,3,3}", th.shape(nn.MaxPool2d(2, {ceil_mode = true})(five)))
    assert.are.equal(five[1][1][5][5], nn.max_pool2d(five, 2, {ceil_mode = true})[1][1][3][3])
    assert.are.equal("{1,1,2,2}", th.shape(nn.max_pool2d(nn.randn(1, 1, 5, 5), 2)))
  end)

  it("AdaptiveAvgPool2d(1) is the global mean; other sizes take PyTorch's windows", function()
    th.same(nn.AdaptiveAvgPool2d(1)(x):view(2), x:view(2, -1):mean(2):totable(), 1e-12)
    local r = nn.tensor({{{1, 2, 3, 4, 5}}}, "f64") -- 1 x 5 to 1 x 3: [1,2] [2,3,4] [4,5]
    th.same(nn.adaptive_avg_pool2d(r, {1, 3}), {{{1.5, 3, 4.5}}})
  end)

  it("pools a 3-D (C, H, W) input as one image", function()
    th.same(nn.max_pool2d(x[1], 2), nn.max_pool2d(x, 2)[1]:totable(), 0)
  end)

  it("has gradients that match finite differences", function()
    local v = nn.randn(2, 2, 5, 4, "f64")
    for _, f in ipairs{
      function(t) return nn.max_pool2d(t, 3, 2, 1) end,
      function(t) return nn.avg_pool2d(t, 2, 1, 1, true, false) end,
      function(t) return nn.adaptive_avg_pool2d(t, {2, 3}) end,
    } do
      local ok, report = nn.gradcheck(f, {v})
      assert(ok, report)
    end
  end)

  it("rejects bad input, naming the module and the shapes", function()
    th.fails(function() nn.MaxPool2d(2)(nn.randn(4, 5)) end, "nn.MaxPool2d:", "{4,5}", "(N, C, H, W)")
    th.fails(function() nn.AvgPool2d(2)(nn.randn(1, 1, 1, 2, 2)) end, "nn.AvgPool2d:")
    th.fails(function() nn.MaxPool2d(5)(nn.randn(1, 1, 3, 3)) end, "nn.MaxPool2d:",
      "kernel {5,5} is larger than the padded input 3x3", "{1,1,3,3}")
    th.fails(function() nn.MaxPool2d(2, 0) end, "nn.MaxPool2d: stride", "got 0")
    th.fails(function() nn.MaxPool2d(2, 1, 2) end, "nn.MaxPool2d: padding {2,2}", "half")
    th.fails(function() nn.MaxPool2d(2, {strid = 1}) end, "did you mean stride")
    th.fails(function() nn.AdaptiveAvgPool2d(0) end, "nn.AdaptiveAvgPool2d: output size")
    th.fails(function() nn.AdaptiveAvgPool2d(2)(nn.randn(3)) end, "nn.AdaptiveAvgPool2d:", "{3}")
    th.fails(function() nn.max_pool2d(nn.randn(1, 1, 3, 3), 4) end, "nn.max_pool2d:", "larger")
    th.fails(function() nn.max_pool2d(nn.randn(1, 1, 3, 3), 2, 0) end, "nn.max_pool2d:", "stride")
    th.fails(function() nn.max_pool2d(nn.randn(1, 1, 3, 3), 2, {pad = 1}) end,
      "nn.max_pool2d: unknown option 'pad'")
    th.fails(function() nn.max_pool2d(nn.randn(1, 1, 3, 3), {2, 2, 2}) end, "kernel size")
    th.fails(function() nn.avg_pool2d(nn.ones(1, 1, 3, 3, "i64"), 2) end, "f32 or f64")
  end)
end)

describe("BatchNorm2d", function()
  it("normalizes each channel over N, H, W in training and moves the running statistics",
    function()
      nn.manual_seed(2)
      local x = nn.randn(4, 3, 5, 2, "f64") * 3 + 1
      local bn = nn.BatchNorm2d(3):double()
      local y = bn(x)
      local per = y:transpose(1, 2):reshape(3, -1)
      th.same(per:mean(2), {0, 0, 0}, 1e-12)
      th.same((per * per):mean(2), {1, 1, 1}, 1e-4) -- eps = 1e-5
      local xc = x:transpose(1, 2):reshape(3, -1)
      th.same(bn.running_mean, (xc:mean(2) * 0.1):totable(), 1e-12)
      th.same(bn.running_var, (xc:var(2) * 0.1 + 0.9):totable(), 1e-12) -- unbiased
      assert.are.equal(1, bn.num_batches_tracked:item())
    end)

  it("keeps its statistics exact for inputs far from zero (f32)", function()
    nn.manual_seed(4)
    local x = (nn.randn(16, 2, 6, 6) * 0.01 + 1e4):float() -- sd 0.01 on 1e4
    local y32 = nn.batch_norm(x, nil, nil, nil, nil, true)
    local y64 = nn.batch_norm(x:double(), nil, nil, nil, nil, true)
    local err = (y32:double() - y64):abs():max():item()
    assert(err < 1e-4, "f32 batch norm off by " .. err)
  end)

  it("uses the running statistics in eval mode, and counts no batch", function()
    local bn = nn.BatchNorm2d(2, {momentum = 0.5})
    local sd = bn:state_dict()
    sd.running_mean:copy_(nn.tensor{1, -2})
    sd.running_var:copy_(nn.tensor{4, 0.25})
    sd.weight:copy_(nn.tensor{2, 1})
    sd.bias:copy_(nn.tensor{0, 3})
    bn:eval()
    local x = nn.ones(1, 2, 1, 1) * 3
    th.same(bn(x):view(2), {2 * (3 - 1) / math.sqrt(4 + 1e-5), (3 + 2) / math.sqrt(0.25 + 1e-5) + 3},
      1e-6)
    assert.are.equal(0, bn.num_batches_tracked:item())
  end)

  it("momentum = false keeps cumulative averages, as PyTorch's momentum=None", function()
    local bn = nn.BatchNorm2d(1, {momentum = false, affine = false})
    bn(nn.tensor({{{{1, 3}}}}))
    bn(nn.tensor({{{{5, 7}}}}))
    th.same(bn.running_mean, {4}, 1e-6)
    assert.is_nil(bn.weight)
  end)

  it("has PyTorch's state-dict keys and gradients matching finite differences", function()
    local keys = {}
    for k in pairs(nn.BatchNorm2d(3):state_dict()) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"bias", "num_batches_tracked", "running_mean", "running_var", "weight"}, keys)
    local x, w, b = nn.randn(3, 2, 2, 3, "f64"), nn.randn(2, "f64"), nn.randn(2, "f64")
    local ok, report = nn.gradcheck(function(t, wt, bt)
      return nn.batch_norm(t, nil, nil, wt, bt, true)
    end, {x, w, b})
    assert(ok, report)
  end)

  it("BatchNorm1d takes (N, C, L) through the same fused op", function()
    local x = nn.randn(4, 3, 5, "f64")
    local y = nn.BatchNorm1d(3):double()(x)
    th.same(y:transpose(1, 2):reshape(3, -1):mean(2), {0, 0, 0}, 1e-12)
  end)

  it("rejects a wrong channel count or a non-4-D input, naming the module", function()
    local bn = nn.BatchNorm2d(3)
    th.fails(function() bn(nn.randn(2, 4, 3, 3)) end, "nn.BatchNorm2d: input has 4 channels, expected 3",
      "{2,4,3,3}")
    th.fails(function() bn(nn.randn(2, 3, 3)) end, "nn.BatchNorm2d: input must be 4-D", "{2,3,3}")
    th.fails(function() bn(nn.randn(1, 3, 1, 1)) end, "more than 1 value per channel")
    th.fails(function() nn.BatchNorm2d(3, {momentum = 2}) end, "nn.BatchNorm2d: momentum")
    th.fails(function() nn.BatchNorm2d(3, {eps = 1e-3, afine = false}) end, "did you mean affine")
  end)
end)

describe("the rest of a CNN", function()
  it("Dropout is the identity in eval mode and drops in training", function()
    local d = nn.Dropout(0.5)
    local x = nn.ones(1000)
    local y = d(x)
    local zeros = (y:eq(0)):sum():item()
    assert(zeros > 350 and zeros < 650, "dropped " .. zeros)
    th.same(y:max(), 2)
    d:eval()
    th.same(d(x), x:totable(), 0)
  end)

  it("Flatten keeps the batch dim of (N, C, H, W)", function()
    assert.are.equal("{2,60}", th.shape(nn.Flatten()(nn.randn(2, 3, 4, 5))))
  end)

  it("help() knows the layers and functions", function()
    local help = require "nn.help"
    for _, name in ipairs{"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
      "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"} do
      assert(help.text(nn[name]):find(name, 1, true), name)
    end
  end)
end)

describe("analyses of a CNN", function()
  -- a conv layer whose filter 2 never fires: its bias is very negative
  local function net()
    nn.manual_seed(3)
    local conv = nn.Conv2d(1, 3, 3, {padding = 1})
    nn.no_grad(function() conv.bias[2] = -100 end)
    return nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 16, 4),
      nn.ReLU())
  end

  it("counts a conv layer's channels as its units: a filter that never fires is dead", function()
    local model, x = net(), nn.rand(8, 1, 8, 8)
    local dead, units = nn.stats.dead_units(model, x)
    assert.are.equal(3, units["1"])
    assert.are.equal(1, dead["1"])
    assert.are.equal(4, units["5"])
    local h = nn.stats.activations(model, x)["1"]
    assert.are.equal(3, nn.stats.active_units(h))
    assert.are.equal(3 * 64, nn.stats.units(h))
    -- sparsity still counts elements: at least the dead channel's third
    local per = nn.stats.sparsity(model, x)
    assert(per["1"] >= 1 / 3 and per["1"] == nn.stats.sparsity(h))
    -- a channel is active where any position is > 0, accumulated over batches
    local mask = nn.stats.active(nn.zeros(2, 3, 2, 2))
    local one = nn.zeros(1, 3, 2, 2)
    one[1][3][2][1] = 0.5
    nn.stats.active(one, mask)
    th.same(mask, {0, 0, 1})
  end)
end)

describe("v:watch of a CNN", function()
  it("counts a conv layer's dead filters over the batches of a window", function()
    local viz = require "viz"
    local v = viz.open{headless = true}
    nn.manual_seed(3)
    local conv = nn.Conv2d(1, 4, 3, {padding = 1})
    nn.no_grad(function()
      conv.weight:zero_()
      conv.bias:copy_(nn.tensor{1, -1, -1, -1})
      conv.weight[3]:fill_(1) -- filter 3 fires on positive inputs only
    end)
    local model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(4 * 9, 2))
    local w = v:watch(model, {every = 2})
    model(nn.rand(2, 1, 3, 3)) -- filter 3 fires
    model(-nn.rand(2, 1, 3, 3)) -- filters 2, 3, 4 silent
    assert.equal(1, w.columns)
    local found = false
    for _, t in ipairs(v:_texts()) do found = found or t[1]:match("^%d+%%%s+2 dead$") ~= nil end
    assert(found, "2 of 4 filters dead over the window")
    w:remove()
  end)
end)
