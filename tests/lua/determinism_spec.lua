-- tests/lua/determinism_spec.lua: the same seed gives the same bits. scripts/fmnist_mlp.lua
-- for 200 steps (Fashion-MNIST, a 784-256-128-10 MLP, Adam, shuffled batches of 128), run
-- twice at 1 thread and twice at 2, in fresh processes: the 200 losses, printed exactly, are
-- identical in all four runs (relua's kernels split work by fixed blocks, never by timing).
local relua = io.popen("readlink /proc/$PPID/exe"):read("l") -- the relua running busted

local function losses(threads)
  local p = io.popen(string.format("RELUA_THREADS=%d %s scripts/fmnist_mlp.lua 200 2>&1",
    threads, relua))
  local out = p:read("a")
  p:close()
  return out
end

local function have_dataset()
  return pcall(nn.data.fashion_mnist, "test")
end

describe("determinism", function()
  if not have_dataset() then
    pending("Fashion-MNIST is missing (make deps installs dataset-fashion-mnist)")
    return
  end
  it("gives bit-identical losses for 200 steps of fmnist_mlp, at 1 and 2 threads", function()
    local first = losses(1)
    local _, lines = first:gsub("\n", "")
    assert.equal(200, lines, first:sub(1, 300))
    assert.truthy(first:find("^1 0x1%."), "losses printed exactly")
    assert.equal(first, losses(1))
    assert.equal(first, losses(2))
    assert.equal(first, losses(2))
  end)
end)
