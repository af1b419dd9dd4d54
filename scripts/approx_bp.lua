-- scripts/approx_bp.lua (E5, "Reducing Fine-Tuning Memory Overhead by Approximate and
-- Memory-Sharing Backpropagation"): a Fashion-MNIST MLP 784-256-256-10 (Adam 1e-3, batch
-- 128) with GELU against ReGELU2 and SiLU against ReSiLU2 (exact forward, a 4-level step
-- derivative backward from 2 bits an element). Prints test accuracy, the bytes each
-- activation layer keeps for its backward (nn.saved_bytes), and the bytes of tensor data the
-- whole graph of a batch holds per sample after its forward (nn.memory): ReGELU2's node keeps
-- its input's shape only, so the Linear's output it read is freed.
-- Usage: relua scripts/approx_bp.lua [epochs=1 [seed=1]]
local nn = require "nn"
local EPOCHS, SEED = tonumber(arg and arg[1]) or 1, tonumber(arg and arg[2]) or 1
local x, y = nn.data.fashion_mnist("train")
local xt, yt = nn.data.fashion_mnist("test")
print(string.format("%-8s %9s %22s %10s %18s", "act", "test acc", "bytes kept / element", "vs exact",
  "graph B / sample"))

-- the bytes of tensor data alive because the graph of one forward holds them, per sample
local function graph_bytes(model, xb, yb)
  collectgarbage(); collectgarbage()
  local before = nn.memory()
  local loss = nn.cross_entropy(model(xb), yb)
  collectgarbage(); collectgarbage()
  local held = nn.memory() - before
  loss:backward()
  model:zero_grad()
  return held / xb:size(1)
end

local exact_bytes
for _, name in ipairs({"GELU", "ReGELU2", "SiLU", "ReSiLU2"}) do
  nn.manual_seed(SEED)
  local model = nn.Sequential(nn.Linear(784, 256), nn[name](), nn.Linear(256, 256), nn[name](),
    nn.Linear(256, 10))
  local h = nn.fit(model, {x, y}, {epochs = EPOCHS, batch = 128, val = {xt, yt}, progress = false,
    optim = nn.optim.Adam(model, {lr = 1e-3})})
  local pre = model[1](x:narrow(1, 1, 128))
  local bytes = nn.saved_bytes(model[2](pre)) / pre:numel()
  if not name:find("^Re") then exact_bytes = bytes end
  print(string.format("%-8s %8.2f%% %22.3f %10s %18.0f", name, 100 * h.val_acc[#h.val_acc], bytes,
    name:find("^Re") and string.format("1/%d", math.floor(exact_bytes / bytes + 0.5)) or "1",
    graph_bytes(model, x:narrow(1, 1, 4096), y:narrow(1, 1, 4096))))
end
