-- stdlib/nn/recurrent.lua: nn.RNN, nn.LSTM and nn.GRU, PyTorch-compatible.
--
-- Each layer of the stack is one call of a fused C op (nn.rnn_tanh, nn.rnn_relu, nn.lstm,
-- nn.gru: the whole sequence, forward and BPTT, in C), so no Lua object is made per time step.
-- Parameters carry PyTorch's names, shapes and gate layouts (weight_ih_l0 is (G hidden, in),
-- LSTM's gates i, f, g, o, GRU's r, z, n) and PyTorch's init (uniform in +-1/sqrt(hidden)), so
-- that a state dict saved by PyTorch loads and gives the same outputs and gradients. Input is
-- (batch, time, features) (PyTorch's batch_first = true); states are (layers, batch, hidden).
local nn = require "nn"
local Module = require "nn.module"
local init = require "nn.initializers"
local options = require "nn.options"

local R = {}

local check = require "nn.seqcheck"
local fail, shape_str, check_size, check_input = check.fail, check.shape_str, check.check_size,
  check.check_input

-- the ops and gate counts of each mode
local modes = {
  rnn_tanh = {op = nn.rnn_tanh, gates = 1},
  rnn_relu = {op = nn.rnn_relu, gates = 1},
  lstm = {op = nn.lstm, gates = 4},
  gru = {op = nn.gru, gates = 3},
}

-- the parameters of every layer, in PyTorch's order and init
local function setup(self, fname, mode, nin, hidden, opts)
  nin = check_size(fname, "in", nin)
  hidden = check_size(fname, "hidden", hidden)
  local layers = opts.layers or 1
  layers = check_size(fname, "layers", layers)
  self.mode, self.input_size, self.hidden_size, self.num_layers = mode, nin, hidden, layers
  if opts.bias ~= nil and type(opts.bias) ~= "boolean" then
    fail(fname, "bias must be true or false, got %s (%s)", type(opts.bias), tostring(opts.bias))
  end
  self.bias = opts.bias ~= false
  local G, bound = modes[mode].gates, 1 / math.sqrt(hidden)
  local function param(...)
    return self:parameter(init.uniform_(nn.empty(...), -bound, bound))
  end
  for l = 0, layers - 1 do
    self["weight_ih_l" .. l] = param(G * hidden, l == 0 and nin or hidden)
    self["weight_hh_l" .. l] = param(G * hidden, hidden)
    if self.bias then
      self["bias_ih_l" .. l] = param(G * hidden)
      self["bias_hh_l" .. l] = param(G * hidden)
    end
  end
end

-- a state of shape (layers, batch, hidden), or nil
local function check_state(self, fname, what, h, batch)
  h = check.check_state(fname, what, h, {self.num_layers, batch, self.hidden_size},
    "layers, batch, hidden")
  local w = self.weight_ih_l0
  if h and h:dtype() ~= w:dtype() then
    fail(fname, "%s is %s but the parameters are %s", what, h:dtype(), w:dtype())
  end
  return h
end

-- Runs the stack: returns the output and the final states (layers, batch, hidden).
local function run(self, x, h0, c0)
  local op, lstm = modes[self.mode].op, self.mode == "lstm"
  local hs, cs = {}, {}
  for l = 1, self.num_layers do
    local k = l - 1
    local w_ih, w_hh = self["weight_ih_l" .. k], self["weight_hh_l" .. k]
    local b_ih, b_hh = self["bias_ih_l" .. k], self["bias_hh_l" .. k]
    local h = h0 and h0:select(1, l)
    if lstm then
      x, hs[l], cs[l] = op(x, h, c0 and c0:select(1, l), w_ih, w_hh, b_ih, b_hh)
    else
      x, hs[l] = op(x, h, w_ih, w_hh, b_ih, b_hh)
    end
  end
  return x, nn.stack(hs, 1), lstm and nn.stack(cs, 1) or nil
end

local function extra_repr(self)
  local s = string.format("in=%d, hidden=%d", self.input_size, self.hidden_size)
  if self.num_layers > 1 then s = s .. ", layers=" .. self.num_layers end
  if self.mode == "rnn_relu" then s = s .. ", nonlinearity=relu" end
  if not self.bias then s = s .. ", bias=false" end
  return s
end

-- ---- RNN ----

R.RNN = Module:extend("RNN")

function R.RNN:init(nin, hidden, opts)
  opts = options.check("nn.RNN", opts, {"nonlinearity", "layers", "bias"})
  local nl = opts.nonlinearity or "tanh"
  if nl ~= "tanh" and nl ~= "relu" then
    fail("RNN", "nonlinearity must be \"tanh\" or \"relu\", got %s", tostring(nl))
  end
  setup(self, "RNN", "rnn_" .. nl, nin, hidden, opts)
end

-- RNN and GRU: y, h_n from x and an optional h0
local function forward_h(name)
  return function(self, x, h0)
    check_input(name, x, self.input_size, self.weight_ih_l0)
    local y, h = run(self, x, check_state(self, name, "h0", h0, x:size(1)))
    return y, h
  end
end

R.RNN.forward = forward_h("RNN")

R.RNN.extra_repr = extra_repr

-- ---- GRU ----

R.GRU = Module:extend("GRU")

function R.GRU:init(nin, hidden, opts)
  setup(self, "GRU", "gru", nin, hidden, options.check("nn.GRU", opts, {"layers", "bias"}))
end

R.GRU.forward = forward_h("GRU")

R.GRU.extra_repr = extra_repr

-- ---- LSTM ----

R.LSTM = Module:extend("LSTM")

function R.LSTM:init(nin, hidden, opts)
  setup(self, "LSTM", "lstm", nin, hidden, options.check("nn.LSTM", opts, {"layers", "bias"}))
end

-- state: nil or {h0, c0}; returns y, {h_n, c_n} (the state, ready to pass back in)
function R.LSTM:forward(x, state)
  check_input("LSTM", x, self.input_size, self.weight_ih_l0)
  local h0, c0
  if state ~= nil then
    if type(state) ~= "table" or nn.is_tensor(state) then
      fail("LSTM", "the state must be a table {h0, c0}, got %s",
        nn.is_tensor(state) and "a tensor " .. shape_str(state) or type(state))
    end
    if (state[1] == nil) ~= (state[2] == nil) then
      fail("LSTM", "the state must hold both h0 and c0, got only %s", state[1] and "h0" or "c0")
    end
    h0 = check_state(self, "LSTM", "h0", state[1], x:size(1))
    c0 = check_state(self, "LSTM", "c0", state[2], x:size(1))
  end
  local y, h, c = run(self, x, h0, c0)
  return y, {h, c}
end

R.LSTM.extra_repr = extra_repr

nn.document("Modules", {
  {"RNN", R.RNN,
    "nn.RNN(in, hidden [, {nonlinearity=\"tanh\", layers=1, bias=true}]) -> m;  "
      .. "m(x [, h0]) -> y, h_n",
    "Elman RNN h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), as PyTorch's "
      .. "nn.RNN with batch_first: x (batch, time, in), y (batch, time, hidden) from the last "
      .. "layer, h0 and h_n (layers, batch, hidden). Parameters weight_ih_l0, weight_hh_l0, "
      .. "bias_ih_l0, bias_hh_l0, ..._l1 as PyTorch's (uniform +-1/sqrt(hidden)), so state dicts "
      .. "load both ways. Each layer is one fused C call over the whole sequence."},
  {"LSTM", R.LSTM,
    "nn.LSTM(in, hidden [, {layers=1, bias=true}]) -> m;  m(x [, {h0, c0}]) -> y, {h_n, c_n}",
    "LSTM as PyTorch's nn.LSTM with batch_first: gates i, f, g, o (weight_ih_l0 is "
      .. "(4 hidden, in)); the state is a table {h, c} of (layers, batch, hidden) tensors, "
      .. "returned in the form it is taken (y, s = m(x, s) carries it on)."},
  {"GRU", R.GRU, "nn.GRU(in, hidden [, {layers=1, bias=true}]) -> m;  m(x [, h0]) -> y, h_n",
    "GRU as PyTorch's nn.GRU with batch_first: gates r, z, n, n = tanh(W_in x + b_in + "
      .. "r (W_hn h + b_hn)), h' = (1 - z) n + z h."},
})

return R
