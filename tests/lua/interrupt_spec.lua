-- tests/lua/interrupt_spec.lua: nn.fit interrupted by real signals. Ctrl-C (SIGINT) stops
-- after the current batch and writes a checkpoint of that point; SIGKILL at any moment
-- leaves the previous checkpoint loadable; resuming gives the uninterrupted run's weights
-- and losses bit for bit (with shuffling and dropout). The signals land wherever they land:
-- every assertion holds whatever the moment.
local relua = (os.getenv("RELUA_BUILD") or "build") .. "/relua"
local victim = "tests/lua/fit_victim.lua"

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

local function result(out)
  return out:match("RESULT (%S+) (%S+) (%S*)")
end

-- runs the victim with SLOW=1, sends sig after delay seconds, waits for it
local function signalled(ckpt, sig, delay)
  return sh(string.format("SLOW=1 %s %s %s 3 & pid=$!; sleep %s; kill -%s $pid; wait $pid",
    relua, victim, ckpt, delay, sig))
end

describe("nn.fit under signals", function()
  local dir, reference
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    local _, sum, losses = result(sh(string.format("%s %s %s/ref.st 3", relua, victim, dir)))
    reference = {sum = sum, losses = losses}
    assert.truthy(sum)
  end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("Ctrl-C stops after a batch, saves that point, and resume reaches the same weights", function()
    for i, delay in ipairs{0.4, 0.9, 1.5} do
      local ckpt = string.format("%s/int%d.st", dir, i)
      local out = signalled(ckpt, "INT", delay)
      local interrupted = result(out)
      if interrupted == "true" then -- caught inside nn.fit (else it came before fit began)
        -- mid-epoch it stops after the batch; in an epoch's last batch, after that epoch
        assert.truthy(out:find("nn.fit: interrupted in epoch %d+ after %d+ batches")
          or out:find("nn.fit: interrupted after epoch %d+"), out)
        local _, meta = nn.load(ckpt)
        assert.equal("relua.fit.checkpoint", meta.format)
      end
      local _, sum, losses = result(sh(string.format("%s %s %s 3 resume", relua, victim, ckpt)))
      assert.equal(reference.sum, sum)
      assert.equal(reference.losses, losses)
    end
  end)

  it("kill -9 at any moment leaves a loadable checkpoint that resumes to the same weights",
    function()
      for i, delay in ipairs{0.3, 0.8, 1.3, 1.9} do
        local ckpt = string.format("%s/kill%d.st", dir, i)
        signalled(ckpt, "KILL", delay)
        local f = io.open(ckpt)
        if f then -- an epoch was complete: its checkpoint loads whole
          f:close()
          local tensors, meta = nn.load(ckpt)
          assert.equal("relua.fit.checkpoint", meta.format)
          assert.is_true(nn.is_tensor(tensors["model.0.weight"]))
        end
        local _, sum, losses = result(sh(string.format("%s %s %s 3 resume", relua, victim, ckpt)))
        assert.equal(reference.sum, sum)
        assert.equal(reference.losses, losses)
      end
    end)
end)

describe("nn.fit checks its files before the first epoch", function()
  local x, y = nn.randn(20, 3), nn.randint(1, 2, {20})
  local function fit(opts)
    opts.progress = false
    return nn.fit(nn.Linear(3, 2), {x, y}, opts)
  end

  it("refuses to resume from a file that does not exist", function()
    th.fails(function() fit{resume = "/nonexistent/ck.st"} end,
      "nn.fit: resume: /nonexistent/ck.st does not exist")
    local path = os.tmpname()
    os.remove(path)
    fit{checkpoint = path, resume = path} -- the first run of the usual pair starts afresh
    local _, meta = nn.load(path)
    assert.equal("1", meta.epoch)
    os.remove(path)
  end)

  it("refuses a checkpoint path it cannot write", function()
    local epochs = 0
    th.fails(function()
      fit{checkpoint = "/nonexistent/dir/ck.st", on_epoch = function() epochs = epochs + 1 end}
    end, "nn.fit: checkpoint /nonexistent/dir/ck.st cannot be written")
    assert.equal(0, epochs)
    th.fails(function() fit{checkpoint = "/tmp"} end, "checkpoint /tmp")
  end)

  it("validates a checkpoint's metadata and its fit to the model", function()
    local path = os.tmpname()
    nn.save(path, {a = nn.ones(1)}, {format = "relua.fit.checkpoint", epoch = "many"})
    th.fails(function() fit{resume = path} end, "the checkpoint's epoch is many")
    nn.save(path, {["model.weight"] = nn.ones(5, 5)}, {format = "relua.fit.checkpoint", epoch = 1})
    th.fails(function() fit{resume = path} end, "does not fit this model")
    nn.save(path, {a = nn.ones(1)}, {format = "something else"})
    th.fails(function() fit{resume = path} end, "is not a checkpoint of nn.fit")
    os.remove(path)
  end)

  it("stops on a loss that is not finite and keeps the last checkpoint", function()
    local path = os.tmpname()
    os.remove(path)
    local calls = 0
    local function loss(out, target) -- finite for the first epoch's 2 batches, then nan
      calls = calls + 1
      local l = nn.cross_entropy(out, target)
      return calls > 2 and l * (0 / 0) or l
    end
    th.fails(function() fit{epochs = 3, batch = 10, loss = loss, checkpoint = path} end,
      "nn.fit: the loss is", "at epoch 2, step 1", "the checkpoint " .. path)
    local _, meta = nn.load(path)
    assert.equal("1", meta.epoch)
    os.remove(path)
  end)
end)
