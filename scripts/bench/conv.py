# scripts/bench/conv.py: the workloads of conv.lua in PyTorch (oneDNN): Conv2d forward and
# forward+backward, as "name seconds" lines (the best of timed batches, as conv.lua).
import os, time
from best import best as time_best
import torch

BUDGET = float(os.environ.get("CONV_BUDGET", "1.0"))


def best(n, f):
    return time_best(n, lambda k: [f() for _ in range(k)], BUDGET)


# name, batch, cin, cout, size, kernel, padding (the same list as conv.lua)
SHAPES = [("conv_32_64_14", 128, 32, 64, 14, 3, 1), ("conv_1_32_28", 128, 1, 32, 28, 3, 1)]
torch.manual_seed(1)
for name, n, cin, cout, size, k, pad in SHAPES:
    conv = torch.nn.Conv2d(cin, cout, k, padding=pad)
    x = torch.randn(n, cin, size, size, requires_grad=True)
    g = torch.randn(n, cout, size, size)

    def fwd():
        with torch.no_grad():
            conv(x)

    def fwd_bwd():
        y = conv(x)
        x.grad = None
        conv.zero_grad()
        y.backward(g)

    print(name + "_fwd", best(5, fwd))
    print(name + "_fwd_bwd", best(3, fwd_bwd))
