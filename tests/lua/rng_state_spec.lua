-- tests/lua/rng_state_spec.lua: the generator's state can be saved and restored.
describe("nn.get_rng_state / nn.set_rng_state", function()
  it("replays the same numbers after a restore", function()
    nn.manual_seed(7)
    local state = nn.get_rng_state()
    local a = nn.rand(5)
    nn.rand(100) -- move on
    nn.set_rng_state(state)
    assert.same(a:totable(), nn.rand(5):totable())
  end)
  it("rejects states that are not 4 i64 values, or all zeros", function()
    assert.has_error(function() nn.set_rng_state(nn.zeros(4)) end,
      "nn.set_rng_state: the state must be 4 i64 values (from nn.get_rng_state), not f32 {4}")
    assert.has_error(function() nn.set_rng_state(nn.zeros(3, "i64")) end)
    assert.has_error(function() nn.set_rng_state(nn.zeros(4, "i64")) end)
  end)
end)
