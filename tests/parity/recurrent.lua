-- tests/parity/recurrent.lua: nn.RNN (tanh, relu), nn.LSTM and nn.GRU against PyTorch's,
-- 2 layers, with initial states, in f64 and f32. The weights are PyTorch's: recurrent.py
-- --save writes its state dicts (and the inputs) as safetensors, loaded here with
-- load_state_dict; then the outputs and the gradients of every input and parameter are
-- printed as recurrent.py prints them.
local nn = require "nn"

local B, T, F, H, L = 3, 5, 4, 6, 2
local path = os.tmpname()
assert(os.execute("/usr/bin/python3 tests/parity/recurrent.py --save " .. path),
  "recurrent.py --save failed")
local file = nn.load(path)
os.remove(path)

local function line(name, t)
  local v = t:double():contiguous():view(-1)
  local parts = {}
  for i = 1, v:size(1) do parts[i] = string.format("%.12g", v[i]) end
  print(name .. " " .. table.concat(parts, " "))
end

for _, kind in ipairs{"rnn_tanh", "rnn_relu", "lstm", "gru"} do
  for _, dt in ipairs{"f64", "f32"} do
    local case = kind .. ":" .. dt
    local function get(name) return file[case .. "." .. name] end
    local m
    if kind == "lstm" then
      m = nn.LSTM(F, H, {layers = L})
    elseif kind == "gru" then
      m = nn.GRU(F, H, {layers = L})
    else
      m = nn.RNN(F, H, {layers = L, nonlinearity = kind:sub(5)})
    end
    m:to(dt)
    local sd = {}
    for name in m:named_parameters() do sd[name] = get(name) end
    m:load_state_dict(sd, true)
    local x, h0, c0 = get("x"):clone(), get("h0"):clone(), get("c0"):clone()
    x.requires_grad, h0.requires_grad, c0.requires_grad = true, true, true
    local y, hn, cn, s
    if kind == "lstm" then
      y, s = m(x, {h0, c0})
      hn, cn = s[1], s[2]
    else
      y, hn = m(x, h0)
    end
    local loss = (y * get("wy")):sum() + (hn * get("wh")):sum()
    if cn then loss = loss + (cn * get("wc")):sum() end
    loss:backward()
    line(case .. ".y", y)
    line(case .. ".h_n", hn)
    if cn then line(case .. ".c_n", cn) end
    line(case .. ".grad.x", x.grad)
    line(case .. ".grad.h0", h0.grad)
    if cn then line(case .. ".grad.c0", c0.grad) end
    for name, p in m:named_parameters() do line(case .. ".grad." .. name, p.grad) end
  end
end
