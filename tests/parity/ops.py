# tests/parity/ops.py: the cases of ops.lua in PyTorch (0-based dims and indices here).
import torch

torch.set_default_dtype(torch.float64)


def input(seed, *shape):
    n = 1
    for s in shape:
        n *= s
    return (torch.arange(n, dtype=torch.float64) * 0.37 + seed).sin().view(*shape)


def emit(name, t):
    t = torch.as_tensor(t).double().contiguous().view(-1)
    print(name + " " + " ".join("%.10g" % v for v in t.tolist()))


a, b = input(1, 3, 4), input(2, 4)
c, d = input(3, 2, 1, 4), input(4, 3, 1)
emit("add_row", a + b)
emit("sub_col", a - d)
emit("mul_3d", c * a)
emit("div", a / (b.abs() + 1))
emit("pow", a.abs() ** b)
emit("scalar_left", 2 - a * 3)
emit("maximum", torch.maximum(a, d))
emit("where", torch.where(a > 0, a, b))
for f in ["exp", "tanh", "sigmoid", "relu", "abs", "floor", "sin"]:
    emit(f, getattr(a, f)())
wide = a.float() * 20
for f in ["exp", "tanh", "sigmoid"]:
    emit(f + "_f32", getattr(wide, f)())
emit("log_f32", (wide.abs() + 0.01).log())
emit("log", (a.abs() + 0.5).log())
emit("clamp", a.clamp(-0.3, 0.4))
emit("sum", a.sum())
emit("sum_d1", a.sum(0))
emit("sum_d2_keep", a.sum(1, keepdim=True))
emit("mean_d1", a.mean(0))
emit("prod_d2", a.prod(1))
emit("var", a.var())
emit("std_d1", a.std(0))
emit("norm", a.norm())
emit("logsumexp_d2", (a * 100).logsumexp(1))
mx, imx = a.max(1)
emit("max_d2", mx)
emit("argmax_d2", imx)
emit("min_all", a.min())
emit("argmin_d1", a.argmin(0))
emit("sum_transposed", a.t().sum(1))
idx = torch.tensor([[1, 3, 2, 1], [3, 3, 1, 2]]) - 1
emit("gather", a.gather(0, idx))
emit("index_select", a.index_select(1, torch.tensor([4, 1, 2]) - 1))
emit("index_add", a.clone().index_add_(0, torch.tensor([3, 1]) - 1, input(5, 2, 4)))
emit("masked_fill", a.masked_fill(a < 0, 9))
emit("narrow_select", a.narrow(1, 1, 2).select(0, 2))
emit("cat", torch.cat([a, input(6, 2, 4)], 0))
emit("stack", torch.stack([b, b * 2], 1))
emit("one_hot", torch.nn.functional.one_hot(torch.tensor([3, 1, 2]) - 1, 4))
emit("permute", c.permute(2, 0, 1))
emit("expand", d.expand(3, 5))
m1, m2 = input(7, 3, 5), input(8, 5, 2)
emit("mm", m1.mm(m2))
emit("matmul_batched", torch.matmul(input(9, 4, 3, 5), m2))
emit("matmul_broadcast", torch.matmul(input(10, 2, 1, 3, 5), input(11, 4, 5, 2)))
emit("matmul_vec", torch.matmul(m1, input(12, 5)))
emit("dot", torch.matmul(input(13, 5), input(14, 5)))
emit("mm_transposed", m1.t().mm(input(15, 3, 4)))
emit("outer", torch.outer(b, input(16, 3)))
