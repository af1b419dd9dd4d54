-- scripts/adding.lua: the adding problem, LRU against a tanh RNN (and an LSTM), experiment
-- E11 of the seed catalog ("Resurrecting Recurrent Neural Networks for Long Sequences").
--
--   relua scripts/adding.lua [T=200] [seconds=120] [models=lru,rnn,lstm]
--   relua scripts/adding.lua 1000 180 lru        (the long version)
--
-- Each sequence holds T values in [0,1) and two markers (one in each half); the target is the
-- sum of the two marked values. Predicting 1 always gives MSE 1/6 = 0.167 (the trivial
-- solution); a model that does not carry information across ~T/2 steps stays there. Every
-- model trains with Adam (batch 64) for the same wall-clock budget (or until its held-out MSE
-- is below 0.002) and is scored on 1000 held-out sequences:
--   LRU: x -> Linear(2, 64) + ReLU -> nn.LRU(64, 64, 64, ring r in [0.9, 0.999], phases in
--        [0, pi/10]) -> last step -> MLP(64 -> 64 -> 1); lr 2e-3.
--   tanh RNN (hidden 128): nn.RNN when it exists, else the recurrence written with per-step
--        ops (h = tanh(W x + U h + b)); the last state -> Linear(128, 1); lr 1e-3.
--   LSTM (hidden 128) when nn.LSTM exists, read out the same way; lr 1e-3.
local T = tonumber(arg and arg[1]) or 200
local budget = tonumber(arg and arg[2]) or 120
local only = arg and arg[3] or "lru,rnn,lstm"
local BATCH, H, EVAL_EVERY = 64, 64, 50

local function models()
  local m = {}
  m.lru = function()
    local M = nn.Module:extend("AddingLRU")
    function M:init()
      self.enc = nn.Sequential(nn.Linear(2, H), nn.ReLU())
      self.lru = nn.LRU(H, H, H, {r_min = 0.9, r_max = 0.999, max_phase = math.pi / 10})
      self.head = nn.Sequential(nn.Linear(H, H), nn.ReLU(), nn.Linear(H, 1))
    end
    function M:forward(x) -- only the last step's output is needed: read out the final state
      local u = self.enc(x)
      local _, last = self.lru:states(u)
      return self.head(self.lru:readout(last, u:select(2, x:size(2))))
    end
    return M(), 2e-3, "LRU (state 64)"
  end
  m.rnn = function()
    local M = nn.Module:extend("AddingRNN")
    local n = 2 * H
    function M:init()
      if nn.RNN then
        self.rnn = nn.RNN(2, n)
      else
        self.ih, self.hh = nn.Linear(2, n), nn.Linear(n, n, {bias = false})
      end
      self.head = nn.Linear(n, 1)
    end
    function M:forward(x)
      if self.rnn then
        local _, h = self.rnn(x)
        if h:dim() == 3 then h = h:select(1, h:size(1)) end -- (layers, batch, hidden)
        return self.head(h)
      end
      local px, h = self.ih(x), nil
      for t = 1, x:size(2) do
        local pre = px:select(2, t)
        if h then pre = pre + self.hh(h) end
        h = pre:tanh()
      end
      return self.head(h)
    end
    return M(), 1e-3, "tanh RNN (hidden 128)" .. (nn.RNN and "" or ", per-step ops")
  end
  if nn.LSTM then
    m.lstm = function()
      local M = nn.Module:extend("AddingLSTM")
      function M:init()
        self.rnn = nn.LSTM(2, 2 * H)
        self.head = nn.Linear(2 * H, 1)
      end
      function M:forward(x)
        local y = self.rnn(x)
        return self.head(y:select(2, x:size(2)))
      end
      return M(), 1e-3, "LSTM (hidden 128)"
    end
  end
  return m
end

local function run(make)
  nn.manual_seed(1)
  local model, lr, name = make()
  local opt = nn.optim.Adam(model:parameters(), {lr = lr})
  local xv, yv = nn.data.adding(1000, T)
  local function val()
    return nn.no_grad(function() return nn.mse_loss(model(xv), yv):item() end)
  end
  local t0, steps, mse, first = nn.time(), 0, val(), nil
  while nn.time() - t0 < budget do
    local x, y = nn.data.adding(BATCH, T)
    local loss = nn.mse_loss(model(x), y)
    opt:zero_grad()
    loss:backward()
    opt:step()
    steps = steps + 1
    if steps % EVAL_EVERY == 0 then
      mse = val()
      if mse < 0.01 and not first then first = {steps, nn.time() - t0} end
      if mse < 0.002 then break end
    end
  end
  mse = val()
  return name, steps, nn.time() - t0, mse, first
end

print(string.format("adding problem, T = %d: batch %d, Adam, %g s per model; MSE on 1000 "
  .. "held-out sequences (trivial: 0.167)", T, BATCH, budget))
print(string.format("%-34s %7s %8s %10s %s", "model", "steps", "time s", "final MSE",
  "first below 0.01"))
local made = models()
for key in only:gmatch("[^,]+") do
  if made[key] then
    local name, steps, secs, mse, first = run(made[key])
    print(string.format("%-34s %7d %8.1f %10.4f %s", name, steps, secs, mse,
      first and string.format("step %d (%.0f s)", first[1], first[2]) or "never"))
    io.stdout:flush()
  elseif key == "lstm" then
    print("(no nn.LSTM in this build: the LSTM row is left out)")
  end
end
