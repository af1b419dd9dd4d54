-- stdlib/nn/scan_layers.lua: recurrent layers trained through the linear scan (nn.linear_scan,
-- nn.linear_scan_complex): MinGRU and MinLSTM ("Were RNNs All We Needed?", Feng et al. 2024),
-- LRU ("Resurrecting Recurrent Neural Networks for Long Sequences", Orvieto et al. 2023) and a
-- diagonal linear RNN whose transitions lie in [0,1] or [-1,1] ("Unlocking State-Tracking in
-- Linear RNNs Through Negative Eigenvalues", Grazzi et al.; HGRN's forget-gate floor).
--
-- Each layer takes x (batch, time, features) and an optional initial state, and returns the
-- output sequence and the final state. The gates of every step come from one GEMM over the
-- whole sequence; the recurrence is one C call (a sequential loop, exact, with the reverse
-- scan as its backward); no Lua object is made per time step.
local nn = require "nn"
local Module = require "nn.module"
local options = require "nn.options"

local S = {}

local check = require "nn.seqcheck"
local fail, shape_str, check_size, check_input, check_state = check.fail, check.shape_str,
  check.check_size, check.check_input, check.check_state

-- a one-step input: (batch, nin)
local function check_step(fname, x, nin)
  if not nn.is_tensor(x) or x:dim() ~= 2 or x:size(2) ~= nin then
    fail(fname, "step input must be (batch, %d), got %s", nin,
      nn.is_tensor(x) and shape_str(x) or type(x))
  end
end

local function zeros_like_state(x, n)
  return nn.zeros(x:size(1), n):to(x:dtype())
end

-- MinGRU and MinLSTM: one Linear gives every gate of every step (parts blocks of rows)
local function init_min(self, name, nin, hidden, parts)
  nin = check_size(name, "in", nin)
  hidden = check_size(name, "hidden", hidden)
  self.input_size, self.hidden_size = nin, hidden
  self.linear = nn.Linear(nin, parts * hidden)
end

-- one token: h_t = a h_{t-1} + b, with a, b = coefs(linear(x_t))
local function min_step(name, coefs)
  return function(self, x, h)
    check_step(name .. ":step", x, self.input_size)
    h = h or zeros_like_state(x, self.hidden_size)
    check_state(name .. ":step", "state", h, {x:size(1), self.hidden_size}, nil, x)
    local a, b = coefs(self.linear(x), self.hidden_size)
    return a * h + b
  end
end

-- ---- MinGRU ----

S.MinGRU = Module:extend("MinGRU")

-- rows 1..hidden: the gate z; rows hidden+1..2 hidden: the candidate h~
function S.MinGRU:init(nin, hidden) init_min(self, "MinGRU", nin, hidden, 2) end

-- the transition a = 1 - z and input b = z h~ of every step, from p = linear(x)
local function mingru_coefs(p, n)
  local z = p:narrow(-1, 1, n):sigmoid()
  return 1 - z, z * p:narrow(-1, n + 1, n)
end

function S.MinGRU:forward(x, h0)
  check_input("MinGRU", x, self.input_size, self.linear.weight)
  check_state("MinGRU", "initial state", h0, {x:size(1), self.hidden_size}, nil, x)
  local h = nn.mingru_scan(self.linear(x), h0)
  return h, h:select(2, x:size(2))
end

S.MinGRU.step = min_step("MinGRU", mingru_coefs)

function S.MinGRU:extra_repr()
  return string.format("%d, %d", self.input_size, self.hidden_size)
end

-- ---- MinLSTM ----

S.MinLSTM = Module:extend("MinLSTM")

-- rows in thirds: the forget gate f, the input gate i, the candidate h~
function S.MinLSTM:init(nin, hidden) init_min(self, "MinLSTM", nin, hidden, 3) end

-- a = f / (f + i), b = i / (f + i) h~
local function minlstm_coefs(p, n)
  local f, i = p:narrow(-1, 1, n):sigmoid(), p:narrow(-1, n + 1, n):sigmoid()
  local s = f + i
  return f / s, i / s * p:narrow(-1, 2 * n + 1, n)
end

function S.MinLSTM:forward(x, h0)
  check_input("MinLSTM", x, self.input_size, self.linear.weight)
  check_state("MinLSTM", "initial state", h0, {x:size(1), self.hidden_size}, nil, x)
  local a, b = minlstm_coefs(self.linear(x), self.hidden_size)
  local h = nn.linear_scan(a, b, h0)
  return h, h:select(2, x:size(2))
end

S.MinLSTM.step = min_step("MinLSTM", minlstm_coefs)

S.MinLSTM.extra_repr = S.MinGRU.extra_repr

-- ---- LRU ----

S.LRU = Module:extend("LRU")

local TWO_PI = 2 * math.pi

function S.LRU:init(nin, state, nout, opts)
  nin = check_size("LRU", "in", nin)
  state = check_size("LRU", "state", state)
  nout = nout or nin
  nout = check_size("LRU", "out", nout)
  opts = options.check("nn.LRU", opts, {"r_min", "r_max", "max_phase"})
  local r_min, r_max = opts.r_min or 0, opts.r_max or 1
  local max_phase = opts.max_phase or TWO_PI
  for k, v in pairs({r_min = r_min, r_max = r_max, max_phase = max_phase}) do
    if type(v) ~= "number" then
      fail("LRU", "%s must be a number, got %s (%s)", k, type(v), tostring(v))
    end
  end
  if not (max_phase > 0) then
    fail("LRU", "max_phase must be positive, got %s", tostring(max_phase))
  end
  if not (r_min >= 0 and r_min < r_max and r_max <= 1) then
    fail("LRU", "need 0 <= r_min < r_max <= 1, got r_min=%s, r_max=%s", tostring(r_min),
      tostring(r_max))
  end
  self.input_size, self.state_size, self.output_size = nin, state, nout
  self.r_min, self.r_max, self.max_phase = r_min, r_max, max_phase
  -- ring init: |lambda|^2 uniform in [r_min^2, r_max^2], phase uniform in [0, max_phase]
  local u1, u2 = nn.rand(state, "f64"), nn.rand(state, "f64")
  local nu = (-0.5 * (u1 * (r_max ^ 2 - r_min ^ 2) + r_min ^ 2):log()):log()
  local theta = (u2 * max_phase):clamp(1e-12, math.huge):log()
  local mod = (-nu:exp()):exp()
  self.nu_log = self:parameter(nu:float())
  self.theta_log = self:parameter(theta:float())
  self.gamma_log = self:parameter((0.5 * (1 - mod * mod):log()):float())
  -- complex Glorot-like B (state x in) and C (out x state), as the paper's code
  self.B_re = self:parameter(nn.randn(state, nin) / math.sqrt(2 * nin))
  self.B_im = self:parameter(nn.randn(state, nin) / math.sqrt(2 * nin))
  self.C_re = self:parameter(nn.randn(nout, state) / math.sqrt(state))
  self.C_im = self:parameter(nn.randn(nout, state) / math.sqrt(state))
  -- D: a vector (y += D * x) when out == in, a matrix (out x in) otherwise
  self.D = self:parameter(nout == nin and nn.randn(nin) or nn.randn(nout, nin) / math.sqrt(nin))
end

-- lambda as planar complex (2, state): exp(-exp(nu)) (cos, sin) exp(theta)
function S.LRU:lambda()
  local mod, phase = (-self.nu_log:exp()):exp(), self.theta_log:exp()
  return nn.stack({mod * phase:cos(), mod * phase:sin()}, 1)
end

-- every state h (2, batch, time, state), planar complex, and the final one (2, batch, state)
function S.LRU:states(x, h0)
  check_input("LRU", x, self.input_size, self.nu_log)
  local nb, nt, n = x:size(1), x:size(2), self.state_size
  check_state("LRU", "initial state", h0, {2, nb, n}, nil, x)
  local a = self:lambda():view(2, 1, 1, n):expand(2, nb, nt, n)
  -- gamma (B x): one GEMM for both parts, laid out as planar (2, batch, time, state)
  local gamma = self.gamma_log:exp()
  local w = nn.cat({self.B_re, self.B_im}, 1) * nn.cat({gamma, gamma}, 1):view(2 * n, 1)
  local b = nn.linear(x, w):view(nb, nt, 2, n):permute(3, 1, 2, 4)
  local h = nn.linear_scan_complex(a, b, h0)
  return h, h:select(3, nt)
end

-- y = Re(C h) + D x for planar states h (2, ..., state) and inputs x (..., in)
function S.LRU:readout(h, x)
  local y = nn.linear(h[1], self.C_re) - nn.linear(h[2], self.C_im)
  if self.D:dim() == 1 then return y + x * self.D end
  return y + nn.linear(x, self.D)
end

function S.LRU:forward(x, h0)
  local h, last = self:states(x, h0)
  return self:readout(h, x), last
end

-- one step of the recurrence h' = lambda h + gamma B x on planar states (2, batch, state)
function S.LRU:step(x, h)
  check_step("LRU:step", x, self.input_size)
  local nb, n = x:size(1), self.state_size
  h = h or nn.zeros({2, nb, n}, x:dtype())
  check_state("LRU:step", "state", h, {2, nb, n}, nil, x)
  local lam, gamma = self:lambda(), self.gamma_log:exp()
  local lr, li = lam[1], lam[2]
  local br, bi = nn.linear(x, self.B_re) * gamma, nn.linear(x, self.B_im) * gamma
  local hr, hi = h[1], h[2]
  local nh = nn.stack({lr * hr - li * hi + br, lr * hi + li * hr + bi}, 1)
  return self:readout(nh, x), nh
end

function S.LRU:extra_repr()
  return string.format("%d, %d, %d, r=[%g, %g], max_phase=%g", self.input_size, self.state_size,
    self.output_size, self.r_min, self.r_max, self.max_phase)
end

-- ---- DiagonalRNN ----

S.DiagonalRNN = Module:extend("DiagonalRNN")

local ranges = {["[0,1]"] = true, ["[-1,1]"] = true}

function S.DiagonalRNN:init(nin, hidden, opts)
  nin = check_size("DiagonalRNN", "in", nin)
  hidden = check_size("DiagonalRNN", "hidden", hidden)
  opts = options.check("nn.DiagonalRNN", opts, {"range", "forget_floor", "input_gate", "out"})
  local range = opts.range or "[0,1]"
  if not ranges[range] then
    fail("DiagonalRNN", "range must be \"[0,1]\" or \"[-1,1]\", got %s", tostring(range))
  end
  local floor = opts.forget_floor
  if floor ~= nil and (type(floor) ~= "number" or floor < 0 or floor >= 1) then
    fail("DiagonalRNN", "forget_floor must be a number in [0, 1), got %s", tostring(floor))
  end
  local gate = opts.input_gate or "none"
  if gate ~= "none" and gate ~= "hgrn" then
    fail("DiagonalRNN", "input_gate must be \"none\" or \"hgrn\", got %s", tostring(gate))
  end
  self.input_size, self.hidden_size = nin, hidden
  self.range, self.forget_floor, self.input_gate = range, floor, gate
  -- rows 1..hidden: the transition's pre-activation; hidden+1..2 hidden: the input
  self.linear = nn.Linear(nin, 2 * hidden)
  -- the transitions start long-lived: their biases uniform in [1, 4] (sigmoid 0.73..0.98)
  nn.no_grad(function() self.linear.bias:narrow(1, 1, hidden):copy_(nn.rand(hidden) * 3 + 1) end)
  if opts.out then
    opts.out = check_size("DiagonalRNN", "out", opts.out)
    self.readout = nn.Linear(hidden, opts.out)
  end
end

-- a = sigma(z) (or floor + (1 - floor) sigma), and for [-1,1] 2 sigma(2 z) - 1 = tanh(z)
-- (floored the same way before the map); b = v, or silu(v) (1 - a) with HGRN's input gate.
-- The [-1,1] map is tanh rather than 2 sigma(z) - 1 (its half-slope twin): the same
-- functions, but Adam's steps of z saturate the transitions twice as fast, and parity only
-- extrapolates with |a| within about 1e-3 of 1 (scripts/parity.lua, 10 seeds: 4 at 78-100%
-- at length 256 with this map, one past 62% with 2 sigma(z) - 1).
function S.DiagonalRNN:coefs(p)
  local n = self.hidden_size
  local z = p:narrow(-1, 1, n)
  local a = (self.range == "[-1,1]" and z * 2 or z):sigmoid()
  if self.forget_floor then a = self.forget_floor + (1 - self.forget_floor) * a end
  if self.range == "[-1,1]" then a = 2 * a - 1 end
  local v = p:narrow(-1, n + 1, n)
  if self.input_gate == "hgrn" then return a, nn.silu(v) * (1 - a) end
  return a, v
end

function S.DiagonalRNN:forward(x, h0)
  check_input("DiagonalRNN", x, self.input_size, self.linear.weight)
  check_state("DiagonalRNN", "initial state", h0, {x:size(1), self.hidden_size}, nil, x)
  local a, b = self:coefs(self.linear(x))
  local h = nn.linear_scan(a, b, h0)
  local last = h:select(2, x:size(2))
  if self.readout then return self.readout(h), last end
  return h, last
end

function S.DiagonalRNN:step(x, h)
  check_step("DiagonalRNN:step", x, self.input_size)
  h = h or zeros_like_state(x, self.hidden_size)
  check_state("DiagonalRNN:step", "state", h, {x:size(1), self.hidden_size}, nil, x)
  local a, b = self:coefs(self.linear(x))
  h = a * h + b
  if self.readout then return self.readout(h), h end
  return h, h
end

function S.DiagonalRNN:extra_repr()
  return string.format("%d, %d, range=%s%s%s", self.input_size, self.hidden_size, self.range,
    self.forget_floor and ", forget_floor=" .. self.forget_floor or "",
    self.input_gate ~= "none" and ", input_gate=" .. self.input_gate or "")
end

-- ---- docs ----

nn.document("Modules", {
  {"MinGRU", S.MinGRU, "nn.MinGRU(in, hidden) -> m;  m(x [, h0]) -> h, h_T",
    "minGRU (Feng et al. 2024): z = sigmoid(W_z x), h~ = W_h x, h_t = (1 - z) h_{t-1} + z h~, "
      .. "for x (batch, time, in); h (batch, time, hidden), h_T the final state. Trained "
      .. "through the direct scan in C with the gates fused (nn.mingru_scan; exact, not the "
      .. "log-space form). "
      .. "Parameters: linear (2 hidden x in; rows z then h~)."},
  {"MinGRU:step", S.MinGRU.step, "m:step(x_t [, h]) -> h",
    "One step of the sequential form, x_t (batch, in), h (batch, hidden) or zeros."},
  {"MinLSTM", S.MinLSTM, "nn.MinLSTM(in, hidden) -> m;  m(x [, h0]) -> h, h_T",
    "minLSTM (Feng et al. 2024): f, i = sigmoid(W_f x), sigmoid(W_i x), h~ = W_h x, "
      .. "h_t = f/(f+i) h_{t-1} + i/(f+i) h~, through nn.linear_scan (direct, exact). "
      .. "Parameters: linear (3 hidden x in; rows f, i, h~)."},
  {"MinLSTM:step", S.MinLSTM.step, "m:step(x_t [, h]) -> h",
    "One step of the sequential form, x_t (batch, in), h (batch, hidden) or zeros."},
  {"LRU", S.LRU,
    "nn.LRU(in, state [, out=in [, {r_min=0, r_max=1, max_phase=2pi}]]) -> m;  "
      .. "m(x [, h0]) -> y, h_T",
    "Linear Recurrent Unit (Orvieto et al. 2023): h_t = lambda h_{t-1} + gamma (B x_t) with "
      .. "complex diagonal lambda = exp(-exp(nu_log) + i exp(theta_log)), gamma = "
      .. "exp(gamma_log) (init sqrt(1 - |lambda|^2)), y_t = Re(C h_t) + D x_t. Ring init: "
      .. "|lambda|^2 uniform in [r_min^2, r_max^2], phase in [0, max_phase]. Parameters nu_log, "
      .. "theta_log, gamma_log (state), B_re, B_im (state x in), C_re, C_im (out x state), D "
      .. "(in, elementwise, when out == in; else out x in). States are planar complex: h0 "
      .. "and h_T (2, batch, state), real parts then imaginary."},
  {"LRU:states", S.LRU.states, "m:states(x [, h0]) -> h (2, batch, time, state), h_T",
    "The complex states of every step (planar: real parts, imaginary parts) and the final one."},
  {"LRU:readout", S.LRU.readout, "m:readout(h, x) -> y",
    "Re(C h) + D x for planar states h (2, ..., state), e.g. only the final state's output."},
  {"LRU:step", S.LRU.step, "m:step(x_t [, h]) -> y, h",
    "One step of the sequential form, x_t (batch, in), h planar (2, batch, state) or zeros."},
  {"LRU:lambda", S.LRU.lambda, "m:lambda() -> tensor (2, state)",
    "The diagonal transition as planar complex numbers (real parts, imaginary parts)."},
  {"DiagonalRNN", S.DiagonalRNN,
    "nn.DiagonalRNN(in, hidden [, {range=\"[0,1]\", forget_floor=nil, input_gate=\"none\", "
      .. "out=nil}]) -> m;  m(x [, h0]) -> y, h_T",
    "Diagonal linear RNN h_t = a_t h_{t-1} + b_t with input-dependent a_t = sigmoid(W_a x) "
      .. "in [0,1], or tanh(W_a x) = 2 sigmoid(2 W_a x) - 1 in [-1,1] (Grazzi et al.: negative "
      .. "eigenvalues let it track parity); forget_floor g gives HGRN's a = g + (1-g) sigmoid "
      .. "(before the [-1,1] map); b_t = W_b x, or silu(W_b x) (1 - a_t) with input_gate=\"hgrn\"; y = h, "
      .. "or a Linear(hidden, out) readout of h. Parameters: linear (2 hidden x in; rows W_a then "
      .. "W_b; W_a's biases start uniform in [1, 4], so that the state is long-lived at first)."},
  {"DiagonalRNN:step", S.DiagonalRNN.step, "m:step(x_t [, h]) -> y, h",
    "One step of the sequential form, x_t (batch, in), h (batch, hidden) or zeros."},
})

return S
