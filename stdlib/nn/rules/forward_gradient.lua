-- stdlib/nn/rules/forward_gradient.lua: gradients estimated without a backward pass.
--
-- estimator = "jvp" ("Gradients without Backpropagation", Baydin et al., 2022): a direction v
-- ~ N(0, I) over all the parameters, one forward-mode pass (nn.jvp) gives the loss f and its
-- directional derivative d = grad f . v, and g = d v is an unbiased estimate of grad f
-- (averaged over K directions when K > 1).
-- estimator = "lr" ("One Forward is Enough for Neural Network Training via Likelihood Ratio
-- Method", Jiang et al., 2023): the batch is copied K times, noise z ~ N(0, sigma^2 I) is
-- added to the output of every Linear layer, in antithetic pairs (copy k + K/2 gets -z of copy
-- k), and one forward pass without autograd gives per-sample losses L. For a Linear layer of
-- input h, E[(L - b) z / sigma^2] is the gradient of the smoothed loss with respect to its
-- output, so
--   g_W = 1/(K N) sum_{k,n} (L - b) z h^T / sigma^2,  g_b = 1/(K N) sum (L - b) z / sigma^2,
-- with b the mean loss of each antithetic pair (which is what makes the pairs cancel noise).
-- Only Linear weights and biases get an estimate under "lr"; "jvp" estimates every parameter.
local nn = require "nn"
local R = require "nn.rules"
local options = require "nn.options"

local FG = R.define("forward_gradient")

local function fail(fmt, ...) R.fail("forward_gradient", fmt, ...) end

function FG:init(model, opts)
  options.check("nn.rules.forward_gradient", opts, {"loss", "optim", "estimator", "K", "sigma"})
  self.loss = opts.loss or nn.cross_entropy
  if type(self.loss) ~= "function" and not (type(self.loss) == "table" and getmetatable(self.loss)) then
    fail("loss must be a function, got %s", type(self.loss))
  end
  self.estimator = opts.estimator or "jvp"
  if self.estimator ~= "jvp" and self.estimator ~= "lr" then
    fail("estimator must be \"jvp\" or \"lr\", got %s", tostring(opts.estimator))
  end
  self.K = opts.K or (self.estimator == "jvp" and 1 or 16)
  self.K = require("nn.options").whole(self.K) or self.K
  if math.type(self.K) ~= "integer" or self.K < 1 or (self.estimator == "lr" and self.K % 2 ~= 0) then
    fail("K must be a positive integer (even for \"lr\": antithetic pairs), got %s",
      tostring(opts.K))
  end
  self.sigma = opts.sigma or 0.1
  if type(self.sigma) ~= "number" or self.sigma <= 0 then
    fail("sigma must be a positive number, got %s", tostring(opts.sigma))
  end
  -- where each parameter lives, to swap in its forward-mode twin: {module, field}
  self.slots, self.params = {}, {}
  for _, m in model:named_modules() do
    for _, name in ipairs(m._params) do
      local p = rawget(m, name)
      if p ~= nil then
        self.slots[#self.slots + 1] = {m, name}
        self.params[#self.params + 1] = p
      end
    end
  end
  if #self.params == 0 then fail("the model has no parameters") end
  if self.estimator == "lr" then self.linears = R.linear_layers("forward_gradient", model) end
  self.optim = opts.optim or nn.optim.Adam(model, {lr = 1e-3})
end

-- the loss of the model with the parameters replaced by ps (restored after, even on error)
function FG:loss_with(ps, x, y)
  for i, s in ipairs(self.slots) do rawset(s[1], s[2], ps[i]) end
  local ok, loss = pcall(function() return self.loss(self.model(x), y) end)
  for i, s in ipairs(self.slots) do rawset(s[1], s[2], self.params[i]) end
  if not ok then error(loss, 0) end
  return loss
end

function FG:jvp_gradients(x, y)
  local grads, loss = {}, 0
  for _ = 1, self.K do
    local vs = {}
    for i, p in ipairs(self.params) do vs[i] = nn.randn(p:shape(), p:dtype()) end
    local f, d = nn.jvp(function(...) return self:loss_with({...}, x, y) end, self.params, vs)
    loss = loss + f:item() / self.K
    local dk = d:item() / self.K
    for i, v in ipairs(vs) do grads[i] = grads[i] and grads[i] + v * dk or v * dk end
  end
  for i, p in ipairs(self.params) do p.grad = grads[i] end
  return loss
end

function FG:lr_gradients(x, y)
  local K, sigma, n = self.K, self.sigma, x:size(1)
  local xs, ys = {}, {}
  for k = 1, K do xs[k], ys[k] = x, y end
  local xk, yk = nn.cat(xs, 1), nn.cat(ys, 1)
  local half = K // 2 * n
  local seen, hooks = {}, {}
  for i, l in ipairs(self.linears) do
    hooks[i] = l.module:register_forward_hook(function(_, input, out)
      local z = nn.randn({half, out:size(2)}, out:dtype()) * sigma
      z = nn.cat({z, -z}, 1)
      seen[i] = {input, z}
      return out + z
    end)
  end
  local ok, losses = pcall(nn.no_grad, function()
    return self.loss(self.model(xk), yk, {reduction = "none"})
  end)
  for _, h in ipairs(hooks) do h.remove() end
  if not ok then error(losses, 0) end
  -- per sample, so that their mean is the loss (a loss per element is averaged per row)
  if losses:dim() > 1 then losses = losses:reshape(K * n, -1):mean(2) end
  local first, second = losses:narrow(1, 1, half), losses:narrow(1, half + 1, half)
  local c = (first - second) / (2 * sigma * sigma)
  local w = nn.cat({c, -c}, 1):view(-1, 1)
  for i, l in ipairs(self.linears) do
    local h, z = seen[i][1], seen[i][2]
    local wz = z * w / (K * n)
    l.module.weight.grad = wz:t():matmul(h)
    if l.module.bias then l.module.bias.grad = wz:sum(1) end
  end
  return losses:mean():item()
end

function FG:gradients(x, y)
  if self.estimator == "jvp" then return self:jvp_gradients(x, y) end
  return self:lr_gradients(x, y)
end

nn.document("Learning rules", {
  {"rules.forward_gradient", R.forward_gradient,
    "nn.rules.forward_gradient(model, {loss=nn.cross_entropy, optim, estimator=\"jvp\"|\"lr\", K, "
      .. "sigma=0.1})",
    "Gradients without backward: \"jvp\" takes g = (grad f . v) v for v ~ N(0, I) from one "
      .. "nn.jvp (K directions averaged, K=1); \"lr\" the likelihood-ratio estimate from K "
      .. "noisy copies of the batch (antithetic pairs, K=16, noise sigma on Linear outputs)."},
})
