# scripts/bench/mingru.py: the workload of mingru.lua in PyTorch: a minGRU (input 64, hidden
# 128, batch 8) forward + backward of the mean of every state at T = 512 and 4096, written the
# two ways a PyTorch user would: a sequential loop over time, and the log-space parallel scan
# of the paper (cumsum + logcumsumexp, with g(x) = x + 0.5 for x >= 0 else sigmoid(x)). The
# faster of the two is the figure. Malloc keeps its buffers (mallopt, as
# MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456 would).
import ctypes, os, time
import torch
import torch.nn.functional as F

libc = ctypes.CDLL("libc.so.6")
libc.mallopt(-3, 33554432)   # M_MMAP_THRESHOLD
libc.mallopt(-1, 268435456)  # M_TRIM_THRESHOLD

torch.manual_seed(1)
B, IN, H = 8, 64, 128
lin = torch.nn.Linear(IN, 2 * H)


def sequential(x):
    p = lin(x)
    z, ht = torch.sigmoid(p[..., :H]), p[..., H:]
    h = x.new_zeros(B, H)
    out = []
    for t in range(x.shape[1]):
        h = (1 - z[:, t]) * h + z[:, t] * ht[:, t]
        out.append(h)
    return torch.stack(out, 1)


def log_g(x):
    return torch.where(x >= 0, (F.relu(x) + 0.5).log(), -F.softplus(-x))


def log_space(x):
    p = lin(x)
    k, ht = p[..., :H], p[..., H:]
    log_coeffs = -F.softplus(k)  # log(1 - z)
    log_values = -F.softplus(-k) + log_g(ht)  # log(z) + log(g(h~))
    a_star = log_coeffs.cumsum(1)
    return (a_star + (log_values - a_star).logcumsumexp(1)).exp()


BUDGET = 2


def best(f, min_runs=2):
    t, start, runs = float("inf"), time.perf_counter(), 0
    while runs < min_runs or time.perf_counter() - start < BUDGET:
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
        runs += 1
    return t


for T in (512, 4096):
    x = torch.randn(B, T, IN)

    def step(model):
        def run():
            lin.zero_grad()
            model(x).mean().backward()
        return run

    # the loop at T = 4096 takes seconds a run: one run (it is far the slower one there);
    # MINGRU_LOOP_MAX_T=512 skips it beyond 512 (for quick runs on a busy machine)
    loop_ok = T <= int(os.environ.get("MINGRU_LOOP_MAX_T", "100000"))
    logs = best(step(log_space))
    seq = best(step(sequential), 1 if T > 1000 else 2) if loop_ok else float("inf")
    print("mingru_T%d" % T, min(seq, logs))
    print("mingru_T%d_sequential_loop" % T, seq)
    print("mingru_T%d_log_space_scan" % T, logs)
