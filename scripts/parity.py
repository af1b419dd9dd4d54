# scripts/parity.py: scripts/parity.lua's diagonal linear RNN in PyTorch, the same setup (bit
# strings, per-prefix parity targets, lengths 3-40 one per batch of 64, d = 64, transition
# biases uniform in [1, 4], an MLP readout d -> d -> 2, Adam lr 3e-2), to tell a difference
# of setup from a difference of implementation. Its own seeds: seed-level results differ
# from relua's, only the picture over seeds compares.
#
#   python3 scripts/parity.py [steps=3000] [seeds=1,2,3] [map=tanh|sigmoid|unit]
#
# map: the transition a_t = tanh(z) (relua's nn.DiagonalRNN{range = "[-1,1]"}), the
# half-slope 2 sigmoid(z) - 1, or sigmoid(z) in [0,1].
import random, sys, time
import torch

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
seeds = [int(s) for s in (sys.argv[2] if len(sys.argv) > 2 else "1,2,3").split(",")]
MAP = sys.argv[3] if len(sys.argv) > 3 else "tanh"
D, BATCH, LR = 64, 64, 3e-2
torch.set_num_threads(1)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(1, 2 * D)
        with torch.no_grad():
            self.lin.bias[:D].copy_(torch.rand(D) * 3 + 1)
        self.head = torch.nn.Sequential(torch.nn.Linear(D, D), torch.nn.ReLU(),
                                        torch.nn.Linear(D, 2))

    def forward(self, x):
        p = self.lin(x.unsqueeze(2))
        z, b = p[..., :D], p[..., D:]
        a = {"tanh": torch.tanh, "sigmoid": lambda v: 2 * torch.sigmoid(v) - 1,
             "unit": torch.sigmoid}[MAP](z)
        h, hs = torch.zeros(x.shape[0], D), []
        for t in range(x.shape[1]):
            h = a[:, t] * h + b[:, t]
            hs.append(h)
        return self.head(torch.stack(hs, 1))


def data(n, length):
    x = torch.randint(0, 2, (n, length)).float()
    return x, (x.cumsum(1) % 2).long()


print("parity (PyTorch): map %s, d = %d, %d Adam steps (lr %g, batch %d)" % (MAP, D, steps, LR,
                                                                            BATCH))
print("%5s %8s %8s %8s %8s" % ("seed", "len 40", "len 128", "len 256", "time s"))
for seed in seeds:
    torch.manual_seed(seed)
    random.seed(seed)
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    t0 = time.time()
    for _ in range(steps):
        x, y = data(BATCH, random.randint(3, 40))
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 2), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    accs = []
    with torch.no_grad():
        for length in (40, 128, 256):
            x, y = data(1000, length)
            accs.append((model(x)[:, -1].argmax(1) == y[:, -1]).float().mean().item())
    print("%5d %7.1f%% %7.1f%% %7.1f%% %8.1f" % ((seed,) + tuple(100 * a for a in accs) +
                                                  (time.time() - t0,)), flush=True)
