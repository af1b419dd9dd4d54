# scripts/bench/cnn.py: cnn.lua's 200 batches in PyTorch: the same CNN, initial weights (the
# safetensors file cnn.lua writes, read here with numpy), data and batch order; prints the
# same figures.
import gzip, json, os, struct, sys, time
import numpy as np
import torch

D = "/usr/share/datasets/fashion-mnist/"
PATH = os.environ.get("CNN_INIT", "build/bench_cnn_init.safetensors")
batches = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def idx(path, offset):
    with gzip.open(D + path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        assert h["dtype"] == "F32", name
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float32)
                                     .reshape(h["shape"]).copy())
    return out


n = batches * 128
pixels = idx("train-images-idx3-ubyte.gz", 16)[:n * 784].reshape(-1, 1, 28, 28).astype(np.float32)
pixels /= 255  # in place, as cnn.lua
x = torch.from_numpy(pixels)
y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8)[:n].astype(np.int64))
nn = torch.nn
model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
model.load_state_dict(load_safetensors(PATH))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

times, losses = [], []
quarter, t0 = batches // 4, time.perf_counter()
for i in range(batches):
    loss = nn.functional.cross_entropy(model(x[i * 128:(i + 1) * 128]), y[i * 128:(i + 1) * 128])
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    if (i + 1) % quarter == 0:
        times.append((time.perf_counter() - t0) / quarter)
        t0 = time.perf_counter()
times.sort()
print("batch_seconds", (times[1] + times[2]) / 2)
print("final_loss", sum(losses[-20:]) / 20)
