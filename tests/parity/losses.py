# tests/parity/losses.py: the cases of losses.lua in PyTorch (0-based classes here).
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


F = torch.nn.functional
target = torch.tensor([1, 3, 2, 3, 4, 1]) - 1
weight = torch.tensor([0.5, 2, 1, 3])
cases = [
    ("ce_w_mean", F.cross_entropy, dict(weight=weight)),
    ("ce_w_sum", F.cross_entropy, dict(weight=weight, reduction="sum")),
    ("ce_w_none", F.cross_entropy, dict(weight=weight, reduction="none")),
    ("ce_w_smooth", F.cross_entropy, dict(weight=weight, label_smoothing=0.2)),
    ("ce_w_ignore", F.cross_entropy, dict(weight=weight, ignore_index=2)),
    ("nll_w_mean", F.nll_loss, dict(weight=weight)),
    ("nll_w_ignore", F.nll_loss, dict(weight=weight, ignore_index=0, reduction="sum")),
]
for name, f, kw in cases:
    x = input(1, 6, 4).requires_grad_()
    loss = f(x, target, **kw)
    emit(name, loss.detach())
    loss.sum().backward()
    emit(name + "_grad", x.grad)

emb = torch.nn.Embedding(5, 3, padding_idx=1)
with torch.no_grad():
    emb.weight.copy_(input(2, 5, 3))
idx = torch.tensor([[1, 2, 4], [2, 5, 2]]) - 1
y = emb(idx)
emit("embedding_pad", y.detach())
(y * input(3, 2, 3, 3)).sum().backward()
emit("embedding_pad_grad", emb.weight.grad)

bn = torch.nn.BatchNorm1d(3)
x = input(4, 4, 3, 5).requires_grad_()
out = bn(x)
emit("bn1d_ncl", out.detach())
(out * input(5, 4, 3, 5)).sum().backward()
emit("bn1d_ncl_grad", x.grad)
emit("bn1d_ncl_running_mean", bn.running_mean)
emit("bn1d_ncl_running_var", bn.running_var)
bn.eval()
emit("bn1d_ncl_eval", bn(input(6, 2, 3, 5)).detach())
