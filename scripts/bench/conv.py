# scripts/bench/conv.py: the workloads of conv.lua in PyTorch (oneDNN): Conv2d forward and
# forward+backward, as "name seconds" lines (the best of timed batches, as conv.lua).
import os, time
import torch

BUDGET = float(os.environ.get("CONV_BUDGET", "1.0"))


def best(n, f):
    t, start, batches = float("inf"), time.perf_counter(), 0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        t = min(t, (time.perf_counter() - t0) / n)
        batches += 1
        if batches >= 3 and time.perf_counter() - start >= BUDGET:
            return t


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
