"""scripts/bench/dist.py: PyTorch's side of scripts/bench/dist.lua: the Fashion-MNIST MLP
(784-256-128-10, Adam, 128 samples per rank per step) under DistributedDataParallel (gloo,
one host), 2 processes against 1, one thread each, interleaved; prints the same figures (seconds_per_1k_samples_1rank,
seconds_per_1k_samples_2ranks, time_ratio_2_over_1 = 1 / speed-up, for scripts/bench/run.py;
then, on stderr, the speed-up and samples per second)."""
import os, statistics, sys, time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WARMUP, STEPS, BATCH = 20, 300, 128


def load():
    import gzip
    d = "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(d, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.tensor(x, dtype=torch.float32) / 255, torch.tensor(y, dtype=torch.int64)


def worker(rank, size, port, out):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    x, y = load()
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    if size > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=size)
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    per_epoch = x.shape[0] // (BATCH * size)

    def step(k):
        first = ((k % per_epoch) * size + rank) * BATCH
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[first:first + BATCH]), y[first:first + BATCH]).backward()
        opt.step()

    for k in range(WARMUP):
        step(k)
    if size > 1:
        dist.barrier()
    t0 = time.perf_counter()
    for k in range(WARMUP, WARMUP + STEPS):
        step(k)
    t = torch.tensor([time.perf_counter() - t0])
    if size > 1:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        dist.destroy_process_group()
    if rank == 0:
        out.put(size * BATCH * STEPS / t.item())


def measure(size, port):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, size, port, q)) for r in range(size)]
    for p in procs:
        p.start()
    v = q.get()
    # torch 1.13's gloo can leave a rank spinning on its closed peer socket after
    # destroy_process_group (seen here): the figure is in, so a rank still alive is stopped
    for p in procs:
        p.join(timeout=20)
        if p.is_alive():
            p.kill()
            p.join()
    return v


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    one, two, ratio = [], [], []
    for r in range(rounds):
        a, b = measure(1, 29500 + r), measure(2, 29600 + r)
        one.append(a), two.append(b), ratio.append(b / a)
    print("seconds_per_1k_samples_1rank", 1000 / statistics.median(one))
    print("seconds_per_1k_samples_2ranks", 1000 / statistics.median(two))
    print("time_ratio_2_over_1", 1 / statistics.median(ratio))
    print("speedup %.3f, 1 rank %.0f, 2 ranks %.0f samples/s" % (
        statistics.median(ratio), statistics.median(one), statistics.median(two)), file=sys.stderr)
