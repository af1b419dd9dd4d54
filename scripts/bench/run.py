"""scripts/bench/run.py BUILD: every benchmark pair scripts/bench/NAME.lua / NAME.py, run in
one session, interleaved (relua, PyTorch 1 thread, PyTorch 2 threads, again), printing the
median ratio relua/PyTorch for each figure. PyTorch runs at its best: OMP_WAIT_POLICY=PASSIVE
(its OpenMP threads and OpenBLAS's otherwise spin against each other on two cores) and the
faster of 1 and 2 threads, per round. Peak RSS comes from the kernel (wait4) for every run.
Ratios below 1 mean relua is faster or smaller."""
import glob, os, statistics, subprocess, sys, time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
RELUA = os.path.join(BUILD, "relua")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ONLY = os.environ.get("BENCH", "")  # run only benchmarks whose name contains this


def run_rss(cmd, env=None):
    """Like run, with the child's peak RSS in MB (from wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), err.decode()))
    figures = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                figures[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return figures, wall, usage.ru_maxrss / 1024.0


def torch_env(threads):
    env = dict(os.environ)
    env.update(OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               MALLOC_MMAP_THRESHOLD_="33554432", MALLOC_TRIM_THRESHOLD_="268435456")
    return env


def direct_sgemm():
    """OpenBLAS sgemm called directly from C (scripts/bench/sgemm.c), seconds per 1024^3 call."""
    exe = os.path.join(BUILD, "bench_sgemm")
    if not sgemm_rounds:  # built afresh by each run
        subprocess.check_call(["cc", "-O2", "-o", exe, "scripts/bench/sgemm.c", "-lopenblas"])
    return run_rss([exe])[0]["sgemm_1024"]


def compare(name):
    """Interleaved rounds of relua and PyTorch on one benchmark pair; returns result rows.
    For ops, each round also runs sgemm directly from C: relua's matmul against that ceiling
    is then a ratio within one round, as the others are."""
    ratios, mine, theirs = {}, {}, {}
    for _ in range(ROUNDS):
        r, _, r_rss = run_rss([RELUA, "scripts/bench/%s.lua" % name])
        if name == "ops":
            sgemm_rounds.append((r["matmul_1024"], direct_sgemm()))
        best = {}
        t_rss = None
        for threads in (1, 2):
            t, _, rss = run_rss(["/usr/bin/python3", "scripts/bench/%s.py" % name],
                                torch_env(threads))
            for k, v in t.items():
                best[k] = min(best.get(k, v), v)
            t_rss = rss if t_rss is None else min(t_rss, rss)
        r["peak_rss_MB"], best["peak_rss_MB"] = r_rss, t_rss
        for k in r:
            if k in best and best[k] > 0:
                ratios.setdefault(k, []).append(r[k] / best[k])
                mine.setdefault(k, []).append(r[k])
                theirs.setdefault(k, []).append(best[k])
    return [(name + "." + k, statistics.median(mine[k]), statistics.median(theirs[k]),
             statistics.median(ratios[k])) for k in ratios]


sgemm_rounds = []  # (relua matmul, direct sgemm) seconds, one pair per round of ops


def startup():
    """relua -e '' against python3 -c 'import torch': wall time and peak RSS."""
    rows = []
    times = {"relua": [], "torch": []}
    rss = {"relua": [], "torch": []}
    for _ in range(max(ROUNDS, 5)):
        for who, cmd in (("relua", [RELUA, "-e", ""]),
                         ("torch", ["/usr/bin/python3", "-c", "import torch"])):
            _, wall, mb = run_rss(cmd, torch_env(2))
            times[who].append(wall)
            rss[who].append(mb)
    t_r, t_t = statistics.median(times["relua"]), statistics.median(times["torch"])
    m_r, m_t = statistics.median(rss["relua"]), statistics.median(rss["torch"])
    rows.append(("startup.seconds", t_r, t_t, t_r / t_t))
    rows.append(("startup.peak_rss_MB", m_r, m_t, m_r / m_t))
    return rows


def sgemm_ceiling():
    """The 1024x1024 matmul against OpenBLAS sgemm called directly from C, round by round."""
    if not sgemm_rounds:
        return
    shares = [direct / mine for mine, direct in sgemm_rounds]
    mine = statistics.median(m for m, _ in sgemm_rounds)
    direct = statistics.median(d for _, d in sgemm_rounds)
    print("matmul 1024x1024 reaches %.0f%% of direct sgemm (median of rounds; %.2f ms vs %.2f ms;"
          " rounds %s)" % (100 * statistics.median(shares), mine * 1e3, direct * 1e3,
                           " ".join("%.0f%%" % (100 * x) for x in shares)))


def flat_memory():
    """A 10-epoch run of the MLP against a 1-epoch run: peak RSS must stay flat."""
    one = run_rss([RELUA, "scripts/bench/mlp.lua", "1"])[2]
    ten = run_rss([RELUA, "scripts/bench/mlp.lua", "10"])[2]
    print("mlp peak RSS: 10 epochs %.0f MB, 1 epoch %.0f MB (ratio %.3f)" % (ten, one, ten / one))


def in_tmux(cmd, env):
    """Runs cmd with its output on a fresh 120x40 tmux pane (a real terminal); returns the
    figures it wrote to $VIZ_BENCH_OUT."""
    import shlex, tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out, name = os.path.join(tmp, "figures"), "relua-bench-%d" % os.getpid()
        env = dict(env, VIZ_BENCH_OUT=out)
        line = " ".join(shlex.quote(a) for a in cmd) + "; tmux wait-for -S " + name
        subprocess.check_call(["tmux", "-L", name, "-f", "/dev/null", "new-session", "-d",
                               "-x", "120", "-y", "40", line], env=env)
        subprocess.check_call(["tmux", "-L", name, "wait-for", name])
        subprocess.call(["tmux", "-L", name, "kill-server"], stderr=subprocess.DEVNULL)
        figures = {}
        with open(out) as f:
            for row in f:
                key, value = row.split()
                figures[key] = float(value)
        return figures


def viz_overhead():
    """The Fashion-MNIST epoch by nn.fit with the live view on against off (relua only):
    scripts/bench/viz.lua alternates them in one process; the median over ROUNDS runs of
    its median ratio. Headless, in a terminal (a tmux pane, RELUA_VIZ=terminal) when tmux is
    there, and in the window too when there is a display. The goal is <= 1.05."""
    displays = [("headless", None)]
    if subprocess.call(["sh", "-c", "command -v tmux"], stdout=subprocess.DEVNULL) == 0:
        displays.append(("terminal", None))
    if os.environ.get("DISPLAY"):
        displays.append(("window", os.environ["DISPLAY"]))
    for label, display in displays:
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        if display:
            env["DISPLAY"] = display
        cmd = [RELUA, "scripts/bench/viz.lua"]
        if label == "terminal":
            env["RELUA_VIZ"] = "terminal"
            runs = [in_tmux(cmd, env) for _ in range(ROUNDS)]
        else:
            runs = [run_rss(cmd, env)[0] for _ in range(ROUNDS)]
        for key, what in (("ratio_epoch", "epoch"), ("ratio", "whole nn.fit call")):
            ratios = [r[key] for r in runs]
            print("viz: fmnist %s with the view on / off (%s): %.3f (goal <= 1.05; runs %s)" %
                  (what, label, statistics.median(ratios), " ".join("%.3f" % x for x in ratios)))


def ff_epoch():
    """A forward-forward epoch against a backprop epoch of the same 784-500-500 MLP, relua
    only (scripts/bench/ff_epoch.lua alternates them in one process); the goal is <= 2."""
    r = run_rss([RELUA, "scripts/bench/ff_epoch.lua"])[0]
    print("forward_forward: epoch %.2f s, backprop epoch %.2f s, ratio %.2f (goal <= 2)" %
          (r["ff_epoch_seconds"], r["bp_epoch_seconds"], r["ratio"]))


# The CNN's multiply-adds per training batch of 128 (cnn.lua), as 2 flops each: conv1 forward and
# weight gradient (no input gradient for the data), conv2 forward, weight and input gradients,
# fc1 and fc2 forward and both gradients. 469 batches make the ~1.5 TFLOP epoch.
def cnn_batch_flops(b=128):
    conv1 = 2 * b * 28 * 28 * 32 * 1 * 9
    conv2 = 2 * b * 14 * 14 * 64 * 32 * 9
    fc = 2 * b * (3136 * 128 + 128 * 10)
    return 2 * conv1 + 3 * conv2 + 3 * fc


def cnn_floor(rows):
    """The CNN batch against the floor that sgemm sets: its flops at the rate OpenBLAS sgemm
    reaches when called directly from C (scripts/bench/sgemm.c, measured now)."""
    got = {name: (mine, theirs) for name, mine, theirs, _ in rows}
    if "cnn.batch_seconds" not in got:
        return
    rate = 2 * 1024 ** 3 / min(direct_sgemm() for _ in range(3))
    flops = cnn_batch_flops()
    floor = flops / rate
    mine, theirs = got["cnn.batch_seconds"]
    print("cnn: a batch is %.2f GFLOP (%.2f TFLOP an epoch of 469); at direct sgemm's %.0f GFLOP/s "
          "the floor is %.1f ms: relua %.1f ms (%.2f x floor), PyTorch %.1f ms (%.2f x floor)" %
          (flops / 1e9, flops * 469 / 1e12, rate / 1e9, floor * 1e3, mine * 1e3, mine / floor,
           theirs * 1e3, theirs / floor))


def main():
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob("scripts/bench/*.lua"))
    names = [n for n in names if os.path.exists("scripts/bench/%s.py" % n) and ONLY in n]
    rows = []
    if ONLY in "startup":
        rows += startup()
    for n in names:
        rows += compare(n)
    print("%-32s %12s %12s %8s" % ("figure", "relua", "pytorch", "ratio"))
    for name, mine, theirs, ratio in rows:
        print("%-32s %12.4g %12.4g %8.3f" % (name, mine, theirs, ratio))
    sgemm_ceiling()
    if ONLY in "cnn":
        cnn_floor(rows)
    if ONLY in "mlp":
        flat_memory()
    if ONLY in "viz":
        viz_overhead()
    if ONLY in "ff_epoch":
        ff_epoch()


if __name__ == "__main__":
    main()
