# scripts/bench/act.py: the workloads of act.lua in PyTorch, as "name seconds" lines.
import os, time
from best import best as time_best
import torch
import torch.nn.functional as F

BUDGET = float(os.environ.get("ACT_BUDGET", "0.4"))

def best(n, f):
    return time_best(n, f, BUDGET)


N = 1000000
x = torch.randn(N, requires_grad=True)
g = torch.randn(N)
prelu_a = torch.full((1,), 0.25)

def smelu(t, beta=1.0):
    return torch.where(t <= -beta, torch.zeros_like(t),
                       torch.where(t >= beta, t, (t + beta) ** 2 / (4 * beta)))

acts = [
    ("relu", torch.relu), ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)), ("elu", F.elu),
    ("gelu", F.gelu), ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh")), ("silu", F.silu),
    ("mish", F.mish), ("softplus", F.softplus), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
    ("hardtanh", F.hardtanh), ("abs", torch.abs), ("relu2", lambda t: torch.relu(t).square()),
    ("smelu", smelu), ("snake", lambda t: t + torch.sin(t) ** 2),
    # PyTorch has no HeLU/ReGELU2/ReSiLU2: the ops they replace (same forward)
    ("helu", torch.relu), ("shifted_relu", lambda t: torch.relu(t - 0.0)),
    ("fatrelu", lambda t: F.threshold(t, 0.1, 0.0)), ("regelu2", F.gelu), ("resilu2", F.silu),
    ("prelu", lambda t: F.prelu(t, prelu_a)), ("glu", lambda t: F.glu(t.view(1000, 1000))),
]
only = os.environ.get("ACT", "")
for name, f in acts:
    if only not in name:
        continue
    def fwd(n, f=f):
        with torch.no_grad():
            for _ in range(n):
                y = f(x)
    def fwdbwd(n, f=f):
        for _ in range(n):
            y = f(x)
            gx, = torch.autograd.grad(y, x, g[:y.numel()].view(y.shape))
    print(name + "_fwd", best(10, fwd))
    print(name + "_fwdbwd", best(10, fwdbwd))
