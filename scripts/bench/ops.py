# scripts/bench/ops.py: the workloads of ops.lua in PyTorch, as "name seconds" lines.
import time
from best import best as time_best
import torch

# As in ops.lua: the best time per call over batches of n calls, for BUDGET seconds (at
# least 3 batches).
BUDGET = 1.5

def best(n, f):
    return time_best(n, f, BUDGET)


def loop(body):
    def run(n):
        for _ in range(n):
            body()
    return run

# The per-op loops are written out, as in ops.lua: a lambda call would add Python's own
# overhead to PyTorch's figure.
def add_1elem(n):
    for _ in range(n):
        c = a + b

def relu_1elem(n):
    for _ in range(n):
        c = a.relu()

a, b = torch.rand(1), torch.rand(1)
print("add_1elem", best(20000, add_1elem))
print("relu_1elem", best(20000, relu_1elem))
x, y = torch.rand(1000000), torch.rand(1000000)
print("add_1e6", best(20, loop(lambda: x + y)))
print("tanh_1e6", best(20, loop(lambda: x.tanh())))
logits = torch.randn(128, 10000)
print("softmax_128x1e4", best(10, loop(lambda: torch.softmax(logits, 1))))
print("log_softmax_128x1e4", best(10, loop(lambda: torch.log_softmax(logits, 1))))
leaf, g = logits.clone().requires_grad_(), torch.randn(128, 10000)
for f in ("softmax", "log_softmax"):
    print(f + "_fwdbwd_128x1e4", best(5, loop(lambda: getattr(torch, f)(leaf, 1).backward(g))))
m1, m2 = torch.rand(1024, 1024), torch.rand(1024, 1024)
print("matmul_1024", best(5, loop(lambda: m1.matmul(m2))))
s = torch.randn(1000, 1000)
print("sort_rows_1e6", best(2, loop(lambda: s.sort(1))))
print("topk10_rows_1e6", best(5, loop(lambda: s.topk(10))))
print("cumsum_rows_1e6", best(10, loop(lambda: s.cumsum(1))))
print("cumprod_cols_1e6", best(10, loop(lambda: s.cumprod(0))))
print("flip_rows_1e6", best(10, loop(lambda: s.flip(1))))
