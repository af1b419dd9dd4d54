-- stdlib/viz/view.lua: the Lua half of the viz module.
--
-- The C module (viz/lviz.c) builds the table, then runs this file with it as its argument
-- when nn has put stdlib on package.path. (Not stdlib/viz/init.lua: with stdlib on the path,
-- require "viz" would find that file before build/viz.so.) Methods written in Lua join the view's methods
-- table, viz.View, here (v:watch(model) and v:partition(model, opts) belong here: they
-- measure a model with nn and hand the numbers to the C primitives v:activations,
-- v:sparsity and v:partition_image). Document them with nn.document("Live view", ...).
local viz = ...
if type(viz) ~= "table" then
  error("stdlib/viz/view.lua is run by the viz C module: require \"viz\" with build/ on "
    .. "package.cpath", 2)
end

return viz
