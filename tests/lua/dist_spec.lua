-- nn.dist without mpirun: a world of one, whose collectives check their arguments and leave
-- values as they are (tests/dist/run runs the same functions on 2 ranks under mpirun).
describe("nn.dist in a world of one", function()
  it("is rank 1 of 1", function()
    local r, n = nn.dist.init()
    assert.equals(1, r)
    assert.equals(1, n)
    assert.equals(1, nn.dist.rank())
    assert.equals(1, nn.dist.size())
  end)

  it("leaves values as they are and checks its arguments", function()
    local t = nn.tensor({1, 2, 3})
    nn.dist.allreduce(t, "mean")
    assert.same({1, 2, 3}, t:totable())
    assert.has_error(function() nn.dist.allreduce(t, "avg") end,
      'nn.dist.allreduce: op must be "sum", "mean" or "max", got avg')
    assert.has_error(function() nn.dist.allreduce(nn.tensor({1}, "i64"), "mean") end,
      "nn.dist.allreduce: mean needs an f32 or f64 tensor, got i64 (sum it instead)")
    assert.has_error(function() nn.dist.broadcast(t, 2) end,
      "nn.dist.broadcast: root must be a rank from 1 to 1, got 2")
    assert.has_error(function() nn.dist.allreduce({1, 2}) end,
      "nn.dist.allreduce: expected a tensor, got table")
    local g = nn.dist.allgather(nn.tensor({{1, 2}}))
    assert.same({1, 1, 2}, g:shape())
    assert.same({{{1, 2}}}, g:totable())
  end)

  it("DataParallel returns the model, which trains as before", function()
    local m = nn.Linear(3, 2)
    local same, dp = nn.dist.DataParallel(m)
    assert.equals(m, same)
    assert.truthy(tostring(dp):match("rank 1 of 1"))
    nn.cross_entropy(m(nn.randn(4, 3)), nn.tensor({1, 2, 1, 2}, "i64")):backward()
    assert.truthy(m.weight.grad)
    assert.has_error(function() nn.dist.DataParallel(m, {buckt_mb = 1}) end,
      "nn.dist.DataParallel: unknown option 'buckt_mb' (did you mean bucket_mb?)")
    assert.has_error(function() nn.dist.DataParallel(42) end,
      "nn.dist.DataParallel: expected a model (an nn.Module), got number")
  end)

  it("nn.fit{distributed = true} trains as nn.fit does", function()
    local function run(distributed)
      nn.manual_seed(1)
      local x = nn.randn(64, 4)
      local y = x:narrow(2, 1, 1):reshape(64):gt(0):to("i64") + 1
      return nn.fit(nn.Linear(4, 2), {x, y}, {epochs = 2, batch = 16, progress = false,
        distributed = distributed, val = {x, y}})
    end
    local h, ref = run(true), run(false)
    assert.equals(2, #h.train_loss)
    for k, list in pairs(ref) do
      for e = 1, 2 do
        if k ~= "seconds" then assert.near(list[e], h[k][e], 1e-12, k) end
      end
    end
  end)
end)

describe("nn.queue_callback", function()
  it("runs after the whole backward, once .grad is accumulated", function()
    local w = nn.randn(3):requires_grad_()
    local log = {}
    w:register_hook(function()
      log[#log + 1] = "hook"
      nn.queue_callback(function(ok) log[#log + 1] = ok and w.grad ~= nil and "done" or "bad" end)
    end)
    ;(w * 2 + w):sum():backward()
    assert.same({"hook", "hook", "done", "done"}, log)
  end)

  it("is an error outside a backward", function()
    assert.has_error(function() nn.queue_callback(print) end,
      "nn.queue_callback: only a gradient hook, during a backward, can queue")
  end)

  it("tells the callbacks when the backward failed, then raises its error", function()
    local w = nn.randn(3):requires_grad_()
    local seen
    w:register_hook(function()
      nn.queue_callback(function(ok) seen = ok end)
      error("boom")
    end)
    assert.has_error(function() w:sum():backward() end)
    assert.equals(false, seen)
  end)
end)
