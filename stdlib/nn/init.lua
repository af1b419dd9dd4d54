-- stdlib/nn/init.lua: the Lua half of the nn module.
--
-- The C binding (nn/lua/lnn.c) builds the table of tensor functions, then runs this file
-- with that table as its argument; the modules written in Lua join the table here.
local nn = ...
if type(nn) ~= "table" then
  error("stdlib/nn/init.lua is run by the nn C module: require \"nn\" with build/ on "
    .. "package.cpath", 2)
end

local help = require "nn.help"
nn.help = help.help
nn.document = help.document

-- modules, layers and training (Lua); each file registers its own docs
local Module = require "nn.module"
nn.Module = Module
for _, file in ipairs({"nn.layers", "nn.loss", "nn.scan_layers", "nn.recurrent", "nn.activations",
    "nn.cnn"}) do
  for name, cls in pairs(require(file)) do nn[name] = cls end
end
for name, f in pairs(require "nn.conv") do nn[name] = f end
nn.init = require "nn.initializers"
nn.optim = require "nn.optim"
nn.data = require "nn.data"
local serialize = require "nn.serialize"
nn.save, nn.load, nn.meta_decode = serialize.save, serialize.load, serialize.meta_decode
nn.gradcheck = require("nn.autograd").gradcheck
nn.fit = require("nn.fit").fit
nn.stats = require "nn.stats"
nn.rules = require "nn.rules"
nn.utils = require "nn.utils"
nn.dist = require "nn.dist" -- its C half (MPI) loads on first use

return nn
