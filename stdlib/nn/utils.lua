-- stdlib/nn/utils.lua: nn.utils, as torch.nn.utils: gradient clipping.
--
-- The parameters come as a module, a list of tensors or one tensor; those without a
-- gradient are skipped. The work is one fused C call over the list of gradients
-- (nn._clip_grad_norm, nn._clip_grad_value in nn/lua/lextra.c), no per-element Lua.
local nn = require "nn"
local call_as = require("nn.options").call_as

local utils = {}

local function fail(fname, fmt, ...)
  error("nn.utils." .. fname .. ": " .. string.format(fmt, ...), 0)
end

-- the gradients of params (a module, a list of tensors or a tensor)
local function grads_of(fname, params)
  if type(params) == "table" and type(params.parameters) == "function" then
    params = params:parameters()
  elseif nn.is_tensor(params) then
    params = {params}
  end
  if type(params) ~= "table" then
    fail(fname, "expected a module, a list of tensors or a tensor, got %s", type(params))
  end
  local grads = {}
  for i, p in ipairs(params) do
    if not nn.is_tensor(p) then fail(fname, "parameter %d is a %s, not a tensor", i, type(p)) end
    local g = p.grad
    if g then grads[#grads + 1] = g end
  end
  return grads
end

local function check_number(fname, what, v)
  if type(v) ~= "number" then fail(fname, "%s must be a number, got %s", what, type(v)) end
end

-- the total norm of all gradients together; when above max_norm, every gradient is scaled
-- by max_norm / (total + 1e-6), as PyTorch does
function utils.clip_grad_norm_(params, max_norm, norm_type)
  check_number("clip_grad_norm_", "max_norm", max_norm)
  if not (max_norm >= 0) then -- a negative one would flip the gradients
    fail("clip_grad_norm_", "max_norm must not be negative, got %s", tostring(max_norm))
  end
  norm_type = norm_type or 2
  check_number("clip_grad_norm_", "norm_type", norm_type)
  if norm_type <= 0 then fail("clip_grad_norm_", "norm_type must be positive, got %g", norm_type) end
  local grads = grads_of("clip_grad_norm_", params)
  if #grads == 0 then return 0 end
  return call_as("nn.utils.clip_grad_norm_", nn._clip_grad_norm, grads, max_norm, norm_type)
end

function utils.clip_grad_value_(params, clip_value)
  check_number("clip_grad_value_", "clip_value", clip_value)
  if clip_value < 0 then fail("clip_grad_value_", "clip_value must not be negative, got %g", clip_value) end
  local grads = grads_of("clip_grad_value_", params)
  if #grads > 0 then call_as("nn.utils.clip_grad_value_", nn._clip_grad_value, grads, clip_value) end
end

nn.document("Utilities", {
  {"clip_grad_norm_", utils.clip_grad_norm_,
    "nn.utils.clip_grad_norm_(params_or_module, max_norm [, norm_type=2]) -> total norm",
    "Scales the gradients in place so that their joint norm is at most max_norm; returns the "
      .. "norm before clipping (a number; math.huge for the max norm)."},
  {"clip_grad_value_", utils.clip_grad_value_,
    "nn.utils.clip_grad_value_(params_or_module, v)",
    "Clamps every gradient element to [-v, v] in place."},
})

return utils
