# tests/parity/optim.py: the training runs of optim.lua in PyTorch (classes 0-based here).
import torch


def values(seed, *shape):
    n = 1
    for s in shape:
        n *= s
    return ((torch.arange(n, dtype=torch.float64) * 0.37 + seed).sin() * 0.5).view(*shape)


def model():
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for i, p in enumerate(m.parameters(), 1):
            p.copy_(values(i, *p.shape))
    return m


x = values(10, 16, 4)
y = torch.tensor([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1]) - 1
optimizers = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                              weight_decay=1e-2),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=1e-3),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "adam_amsgrad": lambda p: torch.optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw_amsgrad": lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
}
for name in ["sgd", "sgd_momentum", "adam", "adamw", "adam_amsgrad", "adamw_amsgrad", "rmsprop"]:
    m = model()
    opt = optimizers[name](m.parameters())
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    for k, p in enumerate(m.parameters(), 1):
        print("%s_param%d %s" % (name, k, " ".join("%.10g" % v for v in p.detach().view(-1).tolist())))
