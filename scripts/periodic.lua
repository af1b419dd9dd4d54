-- scripts/periodic.lua (E2, "Neural Networks Fail to Learn Periodic Functions and How to Fix
-- It"): a 1-64-1 MLP fit to sin x on [-2pi, 2pi] (Adam, full batch), tested on [-6pi, 6pi].
-- Prints the mean squared error inside the training range and outside it (the
-- extrapolation) for ReLU, tanh and Snake (learnable frequency a, init 1); saves a figure of
-- the three fits to docs/periodic.png through the live view's offscreen backend.
-- Usage: relua scripts/periodic.lua [steps=2000]
local nn = require "nn"
local STEPS = tonumber(arg and arg[1]) or 2000
local x = nn.linspace(-2 * math.pi, 2 * math.pi, 256):view(256, 1)
local t = nn.sin(x)
local xt = nn.linspace(-6 * math.pi, 6 * math.pi, 768):view(768, 1)
local tt = nn.sin(xt)
local inside = nn.abs(xt):le(2 * math.pi)
local acts = {
  {"ReLU", function() return nn.ReLU() end}, {"tanh", function() return nn.Tanh() end},
  {"Snake", function() return nn.SnakeA(64) end},
}
local fits = {}
print(string.format("%-6s %14s %16s", "act", "MSE on train", "MSE beyond 2pi"))
for _, a in ipairs(acts) do
  nn.manual_seed(1)
  local model = nn.Sequential(nn.Linear(1, 64), a[2](), nn.Linear(64, 1))
  local opt = nn.optim.Adam(model, {lr = 0.01})
  for _ = 1, STEPS do
    opt:zero_grad()
    local loss = nn.mse_loss(model(x), t)
    loss:backward()
    opt:step()
  end
  local yt = nn.no_grad(function() return model(xt) end)
  local se = (yt - tt) ^ 2
  local m_in = (se * inside:to("f32")):sum():item() / inside:sum():item()
  local m_out = (se * (1 - inside:to("f32"))):sum():item() / (768 - inside:sum():item())
  print(string.format("%-6s %14.4f %16.4f", a[1], m_in, m_out))
  fits[a[1]] = yt
end
local ok, viz = pcall(require, "viz")
if ok and type(viz) == "table" and viz.open then
  local v = viz.open{title = "sin x: fit on [-2pi, 2pi], tested on [-6pi, 6pi]", width = 900,
    height = 420, headless = true}
  for i = 1, 768, 2 do
    local xi = xt[i][1]
    v:plot("sin x", xi, tt[i][1])
    for _, a in ipairs(acts) do v:plot(a[1], xi, fits[a[1]][i][1]) end
  end
  v:smoothing(0)
  v:labels("x", "y")
  os.execute("mkdir -p docs")
  print("saved " .. v:save("docs/periodic.png"))
  v:close()
end
