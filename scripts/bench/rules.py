# scripts/bench/rules.py: the workloads of rules.lua in PyTorch. Feedback alignment and DFA
# are written by hand as a performance-minded PyTorch user would: under no_grad, addmm for
# the layers, the gradients written into preallocated .grad tensors (out=), Adam stepping
# them. backprop is autograd's, as in mlp.py.
import gzip, sys, time
import numpy as np
import torch

D = "/usr/share/datasets/fashion-mnist/"


def idx(path, offset):
    with gzip.open(D + path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


x = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
SIZES = [784, 256, 128, 10]


def mlp():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                               torch.nn.ReLU(), torch.nn.Linear(128, 10))


def layers_of(model):
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    for m in lins:
        m.weight.grad = torch.zeros_like(m.weight)
        m.bias.grad = torch.zeros_like(m.bias)
    return lins


def output_error(out, yb):
    e = torch.softmax(out, 1)
    e[torch.arange(out.shape[0]), yb] -= 1
    return e.div_(out.shape[0])


def local_update(m, d, h):
    torch.mm(d.t(), h, out=m.weight.grad)
    torch.sum(d, 0, out=m.bias.grad)


def forward(lins, xb):
    hs, acts = [xb], []
    for i, m in enumerate(lins):
        a = torch.addmm(m.bias, hs[-1], m.weight.t())
        if i < len(lins) - 1:
            acts.append(a)
            a = a.relu()
        hs.append(a)
    return hs, acts


def fa_step(lins, fb, opt, xb, yb):
    hs, acts = forward(lins, xb)
    d = output_error(hs[-1], yb)
    for i in range(len(lins) - 1, -1, -1):
        local_update(lins[i], d, hs[i])
        if i > 0:
            d = torch.mm(d, fb[i]).mul_(acts[i - 1] > 0)
    opt.step()


def dfa_step(lins, fb, opt, xb, yb):
    hs, acts = forward(lins, xb)
    e = output_error(hs[-1], yb)
    local_update(lins[-1], e, hs[-2])
    for i in range(len(lins) - 1):
        d = torch.mm(e, fb[i].t()).mul_(acts[i] > 0)
        local_update(lins[i], d, hs[i])
    opt.step()


def backprop_step(model, opt, xb, yb):
    loss = torch.nn.functional.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()


def best_epoch(kind):
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    if kind == "backprop":
        step = lambda xb, yb: backprop_step(model, opt, xb, yb)
    else:
        lins = layers_of(model)
        if kind == "fa":  # B_l of W_l's shape
            fb = [torch.rand_like(m.weight) * 2 / m.in_features ** 0.5 - 1 / m.in_features ** 0.5
                  for m in lins]
            fn = fa_step
        else:  # B_l (n_l x n_out) for the hidden layers
            fb = [(torch.rand(m.out_features, 10) * 2 - 1) / 10 ** 0.5 for m in lins[:-1]]
            fn = dfa_step
        step = lambda xb, yb: fn(lins, fb, opt, xb, yb)
    best = float("inf")
    for _ in range(epochs):
        t0 = time.perf_counter()
        with torch.no_grad() if kind != "backprop" else torch.enable_grad():
            for i in range(0, x.shape[0], 128):
                step(x[i:i + 128], y[i:i + 128])
        best = min(best, time.perf_counter() - t0)
    return best


print("fa_epoch_seconds", best_epoch("fa"))
print("dfa_epoch_seconds", best_epoch("dfa"))
print("backprop_epoch_seconds", best_epoch("backprop"))
