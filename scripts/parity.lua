-- scripts/parity.lua: parity with diagonal linear RNNs, "Unlocking State-Tracking in Linear
-- RNNs Through Negative Eigenvalues" (Grazzi et al.), experiment E9 of the seed catalog.
--
--   relua scripts/parity.lua [steps=3000] [seeds=3] [models=all]
--
-- Bit strings, one bit per step; the target at every step is the parity of the bits so far
-- (so a sequence of length L trains L prefixes). Training lengths are drawn from 3..40 (one
-- length per batch of 64); the test is the parity of whole strings of length 40, 128 and 256
-- (1000 strings each). Models, width d = 64, Adam (lr 3e-2): a diagonal linear RNN with
-- transitions a_t = sigmoid(W x_t) in [0,1], the same with 2 sigmoid(W x_t) - 1 in [-1,1]
-- (nn.DiagonalRNN{range = ...}), and a one-layer LSTM when nn.LSTM exists; each reads out
-- through a small MLP (d -> d -> 2). The claim: with only non-negative eigenvalues the
-- diagonal RNN cannot count mod 2 and sits at chance beyond its training lengths; negative
-- ones let it flip its state on every 1 and extrapolate; the LSTM solves it too.
-- models: a comma-separated subset of pos ([0,1]), neg ([-1,1]) and lstm.
local steps = tonumber(arg and arg[1]) or 3000
local nseeds = tonumber(arg and arg[2]) or 3
local only = arg and arg[3]
local D, BATCH = 64, 64
local LR = tonumber(os.getenv("PARITY_LR")) or 3e-2
local GATE = os.getenv("PARITY_GATE") or "none"
local TEST_LENGTHS, NTEST = {40, 128, 256}, 1000

-- bits x (n, len) f32 -> per-prefix parity classes (n, len) i64: 1 even, 2 odd
local function prefix_parity(x)
  local n, len = x:size(1), x:size(2)
  local count = nn.linear_scan(nn.ones(n, len, 1), x:view(n, len, 1)):view(n, len)
  return (count - (count / 2):floor() * 2):long() + 1
end

local Model = nn.Module:extend("ParityModel")

function Model:init(kind)
  self.kind = kind
  if kind == "lstm" then
    self.rnn = nn.LSTM(1, D)
  else
    self.rnn = nn.DiagonalRNN(1, D, {range = kind, input_gate = GATE})
  end
  self.head = nn.Sequential(nn.Linear(D, D), nn.ReLU(), nn.Linear(D, 2))
end

-- logits (batch, time, 2)
function Model:forward(x)
  local h = self.rnn(x:unsqueeze(3))
  return self.head(h)
end

local function accuracy(model, len)
  local x, y = nn.data.parity(NTEST, len)
  return nn.no_grad(function()
    local logits = model(x):select(2, len)
    return (logits:argmax(2):view(NTEST):eq(y):float():mean()):item()
  end)
end

local function train(kind, seed)
  nn.manual_seed(seed)
  local model = Model(kind)
  local opt = nn.optim.Adam(model:parameters(), {lr = LR})
  local t0 = nn.time()
  for _ = 1, steps do
    local len = math.random(3, 40)
    local x = nn.data.parity(BATCH, len)
    local y = prefix_parity(x)
    local loss = nn.cross_entropy(model(x):view(BATCH * len, 2), y:view(BATCH * len))
    opt:zero_grad()
    loss:backward()
    opt:step()
  end
  local accs = {}
  for i, len in ipairs(TEST_LENGTHS) do accs[i] = accuracy(model, len) end
  return accs, nn.time() - t0
end

local kinds = {"[0,1]", "[-1,1]"}
if nn.LSTM then kinds[#kinds + 1] = "lstm" end
if only and only ~= "all" then
  kinds = {}
  local by = {pos = "[0,1]", neg = "[-1,1]", lstm = "lstm"}
  for k in only:gmatch("[^,]+") do kinds[#kinds + 1] = by[k] or error("unknown model " .. k) end
end

print(string.format("parity: d = %d, %d Adam steps (lr %g, batch %d), train lengths 3-40, %d "
  .. "seeds; accuracy on %d strings per length", D, steps, LR, BATCH, nseeds, NTEST))
print(string.format("%-22s %5s %8s %8s %8s %8s", "model", "seed", "len 40", "len 128", "len 256",
  "time s"))
local names = {["[0,1]"] = "diagonal a in [0,1]", ["[-1,1]"] = "diagonal a in [-1,1]",
  lstm = "LSTM (1 layer)"}
for _, kind in ipairs(kinds) do
  for seed = 1, nseeds do
    math.randomseed(seed)
    local accs, secs = train(kind, seed)
    print(string.format("%-22s %5d %7.1f%% %7.1f%% %7.1f%% %8.1f", names[kind] or kind, seed,
      100 * accs[1], 100 * accs[2], 100 * accs[3], secs))
    io.stdout:flush()
  end
end
if not nn.LSTM then print("(no nn.LSTM in this build: the LSTM row is left out)") end
