# scripts/bench/mlp.py: the workloads of mlp.lua in PyTorch (same data, batch order, model;
# the best of 2 epochs; the tiny graph's best time over batches for 1.5 s).
import gzip, sys, time
import numpy as np
import torch

torch.manual_seed(1)
D = "/usr/share/datasets/fashion-mnist/"


def idx(path, offset):
    with gzip.open(D + path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


x = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                            torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 2


def epoch():
    for i in range(0, x.shape[0], 128):
        loss = torch.nn.functional.cross_entropy(model(x[i:i + 128]), y[i:i + 128])
        opt.zero_grad()
        loss.backward()
        opt.step()


best = float("inf")
for _ in range(epochs):
    t0 = time.perf_counter()
    epoch()
    best = min(best, time.perf_counter() - t0)
print("epoch_seconds", best)

w, b = torch.rand(4, requires_grad=True), torch.rand(4, requires_grad=True)
v = torch.rand(4)
tiny, start, batches = float("inf"), time.perf_counter(), 0
while batches < 3 or time.perf_counter() - start < 1.5:
    n, t0 = 5000, time.perf_counter()
    for _ in range(n):
        ((w * v + b).relu()).sum().backward()
    tiny, batches = min(tiny, (time.perf_counter() - t0) / n), batches + 1
print("tiny_graph", tiny)
