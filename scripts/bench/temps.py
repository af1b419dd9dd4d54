# scripts/bench/temps.py: the workloads of temps.lua in PyTorch, as "name seconds" lines.
import time
from best import best as time_best
import torch

BUDGET = 1.5  # as in temps.lua: the best time per iteration over loops for BUDGET seconds


def best(n, f):
    return time_best(n, f, BUDGET)


N = 1000000
a, b, c = torch.rand(N), torch.rand(N), torch.rand(N)


# the loops written out (a lambda call would add Python's own overhead to PyTorch's figure)
def add_loop(n):
    for _ in range(n):
        y = a + b


def mul_add_relu_loop(n):
    for _ in range(n):
        y = (a * b + c).relu()


print("add_loop_1e6", best(200, add_loop))
print("mul_add_relu_loop_1e6", best(200, mul_add_relu_loop))
