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
def param(v):
    return torch.full((1,), float(v), requires_grad=True)

# learnable parameters (shared), differentiated in the fwdbwd figures as a model would
prelu_a, beta, snake_a, sau_alpha, sau_sigma = param(0.25), param(1), param(1), param(0.01), param(1)
ra = torch.tensor([0.063673, 0.505000, 0.989514, 0.807204, 0.274593, 0.035200], requires_grad=True)
rb = torch.tensor([0, 1.598424, 0, 0.069703], requires_grad=True)
params = {"prelu": [prelu_a], "swish_beta": [beta], "snake_a": [snake_a],
          "sau": [sau_alpha, sau_sigma], "rational": [ra, rb]}
INV_SQRT_2PI = 0.3989422804014327

def smelu(t, beta=1.0):
    return torch.where(t <= -beta, torch.zeros_like(t),
                       torch.where(t >= beta, t, (t + beta) ** 2 / (4 * beta)))

def sau(t, alpha, sigma):
    z = t / sigma
    return alpha * t + (1 - alpha) * sigma * (F.gelu(z) + torch.exp(-0.5 * z * z) * INV_SQRT_2PI)

def rational(t, a, b):
    p = a[5]
    for j in range(4, -1, -1):
        p = p * t + a[j]
    q = b[3] * t
    for k in range(2, -1, -1):
        q = (q + b[k]) * t
    return p / (1 + q.abs())

def halves(t):
    return t.view(1000, 1000).chunk(2, -1)

acts = [
    ("relu", torch.relu), ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)), ("elu", F.elu),
    ("gelu", F.gelu), ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh")), ("silu", F.silu),
    ("mish", F.mish), ("softplus", F.softplus), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
    ("hardtanh", F.hardtanh), ("abs", torch.abs), ("relu2", lambda t: torch.relu(t).square()),
    ("smelu", smelu), ("snake", lambda t: t + torch.sin(t) ** 2),
    # PyTorch has no HeLU/ReGELU2/ReSiLU2: the ops they replace (same forward)
    ("helu", torch.relu), ("shifted_relu", lambda t: torch.relu(t - 0.0)),
    ("fatrelu", lambda t: F.threshold(t, 0.1, 0.0)), ("regelu2", F.gelu), ("resilu2", F.silu),
    ("prelu", lambda t: F.prelu(t, prelu_a)),
    ("swish_beta", lambda t: t * torch.sigmoid(beta * t)),
    ("snake_a", lambda t: t + torch.sin(snake_a * t) ** 2 / snake_a),
    ("sau", lambda t: sau(t, sau_alpha, sau_sigma)),
    ("rational", lambda t: rational(t, ra, rb)),
    ("relu_attention", lambda t: torch.relu(t.view(1000, 1000)) / 1000),
    ("glu", lambda t: F.glu(t.view(1000, 1000))),
    ("reglu", lambda t: (lambda u, v: F.relu(u) * v)(*halves(t))),
    ("geglu", lambda t: (lambda u, v: F.gelu(u) * v)(*halves(t))),
    ("swiglu", lambda t: (lambda u, v: F.silu(u) * v)(*halves(t))),
    ("bilinear", lambda t: (lambda u, v: u * v)(*halves(t))),
]
only = os.environ.get("ACT", "")
for name, f in acts:
    if only not in name or (os.environ.get("ACT_EXACT") and name != only):
        continue
    def fwd(n, f=f):
        with torch.no_grad():
            for _ in range(n):
                y = f(x)
    wrt = [x] + params.get(name, [])
    def fwdbwd(n, f=f, wrt=wrt):
        for _ in range(n):
            y = f(x)
            gs = torch.autograd.grad(y, wrt, g[:y.numel()].view(y.shape))
    print(name + "_fwd", best(10, fwd))
    print(name + "_fwdbwd", best(10, fwdbwd))
