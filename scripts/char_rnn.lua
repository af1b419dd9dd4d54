-- scripts/char_rnn.lua: a character-level LSTM on the GPL-3 text every Debian machine has
-- (/usr/share/common-licenses/GPL-3). Trained by nn.fit (progress bar; the loss curve in the
-- live view when a display is there), it prints a sample after every epoch, then saves the
-- model, loads it into a fresh one and shows that both sample the same text.
--
--   relua scripts/char_rnn.lua [epochs=12] [hidden=128]
--
-- The default run (12 epochs of 46 steps) takes about two minutes on a 2-core machine.
local nn = require "nn"

local epochs = math.tointeger(tonumber(arg and arg[1])) or 12
local hidden = math.tointeger(tonumber(arg and arg[2])) or 128
local SEQ, STRIDE, BATCH = 64, 24, 32

-- ---- the text as 1-based character codes ----
local f = assert(io.open("/usr/share/common-licenses/GPL-3", "rb"))
local text = f:read("a")
f:close()
local chars, code = {}, {}
for c in text:gmatch(".") do
  if not code[c] then
    chars[#chars + 1] = c
    code[c] = true
  end
end
table.sort(chars)
for i, c in ipairs(chars) do code[c] = i end
local V = #chars

-- windows of SEQ + 1 characters: input the first SEQ, target the last SEQ
local xs, ys = {}, {}
for start = 1, #text - SEQ - 1, STRIDE do
  local xrow, yrow = {}, {}
  for k = 0, SEQ - 1 do
    xrow[k + 1] = code[text:sub(start + k, start + k)]
    yrow[k + 1] = code[text:sub(start + k + 1, start + k + 1)]
  end
  xs[#xs + 1], ys[#ys + 1] = xrow, yrow
end
local x, y = nn.tensor(xs, "i64"), nn.tensor(ys, "i64")
print(string.format("GPL-3: %d characters, %d distinct; %d windows of %d", #text, V, #xs, SEQ))

-- ---- the model: embedding, LSTM, a linear readout per step ----
local CharRNN = nn.Module:extend("CharRNN")

function CharRNN:init(vocab, h)
  self.embed = nn.Embedding(vocab, 32)
  self.lstm = nn.LSTM(32, h)
  self.out = nn.Linear(h, vocab)
end

-- x (batch, time) codes -> logits (batch, time, vocab), and the LSTM's final state
function CharRNN:forward(codes, state)
  local h, s = self.lstm(self.embed(codes), state)
  return self.out(h), s
end

-- n characters after the prompt, drawn with temperature from the model's distribution
local function sample(model, prompt, n, temperature, seed)
  math.randomseed(seed)
  local _ <close> = nn.no_grad()
  local codes = {}
  for c in prompt:gmatch(".") do codes[#codes + 1] = code[c] end
  local logits, state = model(nn.tensor({codes}, "i64"))
  local out = {prompt}
  for _ = 1, n do
    local p = nn.softmax(logits:select(2, logits:size(2)):view(-1) / temperature, 1)
    local u, acc, pick = math.random(), 0, V
    for i = 1, V do
      acc = acc + p[i]
      if u < acc then
        pick = i
        break
      end
    end
    out[#out + 1] = chars[pick]
    logits, state = model(nn.tensor({{pick}}, "i64"), state)
  end
  return table.concat(out)
end

nn.manual_seed(1)
local model = CharRNN(V, hidden)
local function loss(logits, target)
  return nn.cross_entropy(logits:view(-1, V), target:view(-1))
end

local PROMPT = "The GNU General Public License "
local history = nn.fit(model, {x, y}, {
  epochs = epochs, batch = BATCH, loss = loss,
  optim = nn.optim.Adam(model, {lr = 5e-3}),
  on_epoch = function(info)
    print(string.format("-- sample after epoch %d (loss %.3f):", info.epoch, info.train_loss))
    print(sample(info.model, PROMPT, 160, 0.7, info.epoch))
  end,
  viz = os.getenv("DISPLAY") and {title = "char-rnn: an LSTM on GPL-3 (train loss)"} or nil,
})

-- ---- save, reload, sample again ----
local path = os.tmpname() .. ".safetensors"
nn.save(path, model)
local reloaded = CharRNN(V, hidden)
reloaded:load_state_dict(nn.load(path))
os.remove(path)
local a, b = sample(model, PROMPT, 120, 0.7, 99), sample(reloaded, PROMPT, 120, 0.7, 99)
print("-- the trained model and the reloaded one, same seed:")
print(a)
print(a == b and "(the reloaded model samples the same text)" or ("DIFFERENT:\n" .. b))

local steps_per_epoch = (#xs + BATCH - 1) // BATCH
print(string.format("\n%6s %8s %10s %10s", "epoch", "steps", "loss", "seconds"))
for e = 1, #history.train_loss do
  print(string.format("%6d %8d %10.3f %10.1f", e, e * steps_per_epoch, history.train_loss[e],
    history.seconds[e]))
end
