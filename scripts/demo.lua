-- scripts/demo.lua: what `make run` shows first. A ReLU network learns three interleaved
-- spirals while the live view draws its loss, the sparsity of its activations and the
-- linear regions it cuts the plane into (scripts/spirals_live.lua, on a short schedule).
-- With a display, a window (p pauses, q closes; it stays 15 s after training); without
-- one, the same view is saved as spirals_live.png.
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "scripts"
local script = here .. "/spirals_live.lua"
arg = {[0] = script, "100"}
dofile(script)
print([[

Next: build/relua scripts/fmnist_live.lua   (Fashion-MNIST, live)
      build/relua                            (the REPL; help(nn), help(viz.open))]])
