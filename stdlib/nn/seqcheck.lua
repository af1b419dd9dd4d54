-- stdlib/nn/seqcheck.lua: the argument checks every sequence layer makes (nn.recurrent,
-- nn.scan_layers), with messages that name the layer and the shapes.
local nn = require "nn"

local C = {}

local options = require "nn.options"

C.fail, C.shape_str = options.fail, options.shape_str
local fail, shape_str = C.fail, C.shape_str

function C.check_size(fname, what, n)
  n = options.whole(n) or n
  if math.type(n) ~= "integer" or n < 1 then
    fail(fname, "%s must be a positive integer, got %s", what, tostring(n))
  end
  return n
end

-- x must be (batch, time, nin) with time >= 1, of a float dtype (like's, when given: a
-- parameter of the layer)
function C.check_input(fname, x, nin, like)
  if not nn.is_tensor(x) then fail(fname, "input must be a tensor, got %s", type(x)) end
  local dt = x:dtype()
  if dt ~= "f32" and dt ~= "f64" then
    fail(fname, "input must be f32 or f64, got %s (input shape %s)", dt, shape_str(x))
  end
  if like and like:dtype() ~= dt then
    fail(fname, "input is %s but the parameters are %s (convert one: x:to(\"%s\") or m:to(\"%s\"))",
      dt, like:dtype(), like:dtype(), dt)
  end
  if x:dim() ~= 3 then
    fail(fname, "input must be 3-D (batch, time, features), got shape %s", shape_str(x))
  end
  if x:size(3) ~= nin then
    fail(fname, "input has %d features, expected %d (input shape %s)", x:size(3), nin,
      shape_str(x))
  end
  if x:size(2) == 0 then fail(fname, "the sequence has length 0 (input shape %s)", shape_str(x)) end
end

-- a state h, when given, must have the shape want (a list); dims names them in the message;
-- like (the input), when given, its dtype
function C.check_state(fname, what, h, want, dims, like)
  if h == nil then return nil end
  if not nn.is_tensor(h) then fail(fname, "%s must be a tensor, got %s", what, type(h)) end
  local ok = h:dim() == #want
  for d = 1, #want do ok = ok and h:size(d) == want[d] end
  if not ok then
    fail(fname, "%s has shape %s, expected {%s}%s", what, shape_str(h), table.concat(want, ","),
      dims and " (" .. dims .. ")" or "")
  end
  if like and h:dtype() ~= like:dtype() then
    fail(fname, "%s is %s but the input is %s", what, h:dtype(), like:dtype())
  end
  return h
end

return C
