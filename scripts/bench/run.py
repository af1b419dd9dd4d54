"""scripts/bench/run.py BUILD: relua against PyTorch, in one session, interleaved.

Every benchmark is registered in BENCHMARKS below, one line each. A name with a pair of
scripts, scripts/bench/NAME.lua and NAME.py, is compared round by round: each round runs
relua, PyTorch tuned with 1 thread and with 2, and PyTorch untuned, one after the other (A B A
B: the machine's drift hits all alike). Each script prints "figure value" lines, every figure
the best of repeated batches inside the run. A figure below is the best over the rounds; a
ratio is the median over the rounds of that round's relua / PyTorch.

PyTorch tuned is PyTorch at its best, as a performance-minded user runs it on this CPU:
OMP_WAIT_POLICY=PASSIVE (its OpenMP threads and OpenBLAS's otherwise spin against each other
on two cores), glibc's malloc told to keep its buffers (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_), and the faster of 1 and 2 threads, per figure and round. PyTorch
untuned is PyTorch as it ships (the environment as given, but for OpenBLAS's kernels, below).
relua runs as it ships.

OpenBLAS's kernels are the same on every side (PyTorch 1.13 here calls the same libopenblas
through libblas.so.3): OpenBLAS's own choice for this CPU. An OPENBLAS_CORETYPE in the
environment is dropped for every program run.py starts (this machine's environment sets
Haswell, the AVX2 kernels, on a CPU whose AVX-512 kernels run sgemm twice as fast);
BENCH_CORETYPE=name sets one for every side instead. Were OpenBLAS's own choice AVX2 kernels
on a CPU with AVX-512, PyTorch at its best would also try OPENBLAS_CORETYPE=SkylakeX.
The text table says which PyTorch setting won each figure's rounds.

Peak RSS is each program's own: scripts/bench/peak.c forks and execs it and reads wait4's
ru_maxrss (a child forked from this Python would count Python's pages too).

BENCH=name runs only the benchmarks whose name contains it; BENCH_ROUNDS=n sets the rounds
(default 3). Ratios below 1 mean relua is faster or smaller."""
import os, statistics, subprocess, sys, tempfile, time

# The benchmarks, one line each. A name with scripts/bench/NAME.lua and NAME.py is a pair;
# any other name is a function of this file (relua only, or a special comparison).
BENCHMARKS = [
    "startup",
    "ops",
    "temps",
    "mlp",
    "conv",
    "cnn",
    "act",
    "rnn",
    "mingru",
    "rules",
    "viz",
    "ff_epoch",
    "dist",
]

# Extra environment for both sides of a pair, to keep `make bench` in minutes: PyTorch's
# sequential MinGRU loop takes minutes a run at T = 4096 on this machine.
PAIR_ENV = {
    "mingru": {"MINGRU_LOOP_MAX_T": "512"},
}

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
RELUA = os.path.join(BUILD, "relua")
PEAK = os.path.join(BUILD, "bench_peak")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ONLY = os.environ.get("BENCH", "")  # run only benchmarks whose name contains this
TUNING = {"OMP_WAIT_POLICY": "PASSIVE", "MALLOC_MMAP_THRESHOLD_": "33554432",
          "MALLOC_TRIM_THRESHOLD_": "268435456"}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CORETYPE = os.environ.get("BENCH_CORETYPE")  # OpenBLAS's kernels for every side, if set
AVX512_CORES = ("SkylakeX", "Cooperlake", "SapphireRapids")


def base_env():
    """The environment of every program run.py starts: OpenBLAS picks its kernels itself,
    or BENCH_CORETYPE picks them."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if CORETYPE:
        env["OPENBLAS_CORETYPE"] = CORETYPE
    return env


BASE_ENV = base_env()


def build_tools():
    """The peak-RSS launcher and the direct sgemm, built afresh by each run."""
    subprocess.check_call(["cc", "-O2", "-o", PEAK, "scripts/bench/peak.c"])
    subprocess.check_call(["cc", "-O2", "-o", os.path.join(BUILD, "bench_sgemm"),
                           "scripts/bench/sgemm.c", "-lopenblas"])


def openblas_core(env=None):
    """The kernels OpenBLAS picks in env, as its OPENBLAS_VERBOSE=2 line names them."""
    env = dict(env or BASE_ENV, OPENBLAS_VERBOSE="2")
    p = subprocess.run([RELUA, "-e", ""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    for line in p.stderr.decode().splitlines():
        if line.startswith("Core: "):
            return line[len("Core: "):].strip()
    return "unknown"


def cpu_has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def torch_cores():
    """PyTorch at its best tries each of these OPENBLAS_CORETYPE values (None: BASE_ENV's)."""
    global TORCH_CORES
    if TORCH_CORES is None:
        TORCH_CORES = find_torch_cores()
    return TORCH_CORES


TORCH_CORES = None


def find_torch_cores():
    if CORETYPE or openblas_core() in AVX512_CORES or not cpu_has_avx512():
        return [None]
    return [None, "SkylakeX"]


def run_rss(cmd, env=None):
    """Runs cmd under the launcher: its "name value" lines, wall seconds, own peak RSS in MB."""
    with tempfile.NamedTemporaryFile("r") as peak:
        t0 = time.perf_counter()
        p = subprocess.run([PEAK, peak.name] + cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env or BASE_ENV)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), p.stderr.decode()))
        rss = int(peak.read()) / 1024.0
    figures = {}
    for line in p.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                figures[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return figures, wall, rss


def torch_env(threads, extra=None, core=None):
    """PyTorch tuned with threads threads (and OPENBLAS_CORETYPE=core if given), or untuned
    (threads None)."""
    env = dict(BASE_ENV)
    for k in list(TUNING) + list(THREAD_VARS):
        env.pop(k, None)
    if threads:
        env.update(TUNING)
        env.update({k: str(threads) for k in THREAD_VARS})
    if core:
        env["OPENBLAS_CORETYPE"] = core
    env.update(extra or {})
    return env


def load():
    return os.getloadavg()[0]


class Figures:
    """Per figure, one value per round for each side: relua, tuned, untuned."""

    def __init__(self):
        # name -> {"relua": [...], "tuned": [...], "untuned": [...], "won": [...]}, where won
        # names the PyTorch setting behind each round's tuned figure
        self.rows = {}
        self.order = []

    def add(self, name, side, value, won=None):
        if name not in self.rows:
            self.rows[name] = {"relua": [], "tuned": [], "untuned": [], "won": []}
            self.order.append(name)
        self.rows[name][side].append(value)
        if won:
            self.rows[name]["won"].append(won)

    def results(self, loadavg):
        out = []
        for name in self.order:
            r = self.rows[name]
            n = min(len(r["relua"]), len(r["tuned"]))
            if n == 0:
                continue
            rounds = [a / b for a, b in zip(r["relua"], r["tuned"]) if b > 0]
            untuned = [a / b for a, b in zip(r["relua"], r["untuned"]) if b > 0]
            out.append(dict(name=name, relua=min(r["relua"]), tuned=min(r["tuned"]),
                            untuned=min(r["untuned"]) if r["untuned"] else None,
                            ratio=statistics.median(rounds) if rounds else None,
                            ratio_untuned=statistics.median(untuned) if untuned else None,
                            rounds=rounds, load=loadavg, won=won_summary(r["won"])))
        return out


def won_summary(won):
    """"T2 x3" or "T1 x2, T2 x1": which PyTorch setting gave the tuned figure, over rounds."""
    counts = {}
    for w in won:
        counts[w] = counts.get(w, 0) + 1
    return ", ".join("%s x%d" % (w, n) for w, n in sorted(counts.items(), key=lambda x: -x[1]))


sgemm_rounds = []  # (relua matmul, direct sgemm) seconds, one pair per round of ops


def pair(name):
    """Interleaved rounds of relua and PyTorch on one benchmark pair. For ops, each round also
    runs sgemm directly from C: relua's matmul against that ceiling is then a ratio within
    one round, as the others are."""
    figs, extra = Figures(), PAIR_ENV.get(name, {})
    renv, cores = dict(BASE_ENV, **extra), torch_cores()
    for _ in range(ROUNDS):
        r, _, r_rss = run_rss([RELUA, "scripts/bench/%s.lua" % name], renv)
        if name == "ops":
            sgemm_rounds.append((r["matmul_1024"],
                                 run_rss([os.path.join(BUILD, "bench_sgemm")])[0]["sgemm_1024"]))
        tuned, won, t_rss = {}, {}, None
        for core in cores:
            for threads in (1, 2):
                t, _, rss = run_rss(["/usr/bin/python3", "scripts/bench/%s.py" % name],
                                    torch_env(threads, extra, core))
                for k, v in t.items():
                    if v < tuned.get(k, float("inf")):
                        tuned[k], won[k] = v, "T%d%s" % (threads, "/" + core if core else "")
                t_rss = rss if t_rss is None else min(t_rss, rss)
        u, _, u_rss = run_rss(["/usr/bin/python3", "scripts/bench/%s.py" % name],
                              torch_env(None, extra))
        r["peak_rss_MB"], tuned["peak_rss_MB"], u["peak_rss_MB"] = r_rss, t_rss, u_rss
        for k in r:
            if k in tuned:
                figs.add(name + "." + k, "relua", r[k])
                figs.add(name + "." + k, "tuned", tuned[k], won.get(k))
                if k in u:
                    figs.add(name + "." + k, "untuned", u[k])
    return figs


def startup():
    """relua -e '' against python3 -c 'import torch': wall time and peak RSS."""
    figs = Figures()
    for _ in range(max(ROUNDS, 5)):
        _, wall, mb = run_rss([RELUA, "-e", ""])
        figs.add("startup.seconds", "relua", wall)
        figs.add("startup.peak_rss_MB", "relua", mb)
        for side, threads in (("tuned", 2), ("untuned", None)):
            _, wall, mb = run_rss(["/usr/bin/python3", "-c", "import torch"], torch_env(threads))
            figs.add("startup.seconds", side, wall)
            figs.add("startup.peak_rss_MB", side, mb)
    return figs


def sgemm_ceiling():
    """The 1024x1024 matmul against OpenBLAS sgemm called directly from C, round by round."""
    if not sgemm_rounds:
        return None
    shares = [direct / mine for mine, direct in sgemm_rounds]
    mine = min(m for m, _ in sgemm_rounds)
    direct = min(d for _, d in sgemm_rounds)
    return ("matmul 1024x1024 reaches %.0f%% of direct sgemm (median of rounds; best %.2f ms vs"
            " %.2f ms; rounds %s)" % (100 * statistics.median(shares), mine * 1e3, direct * 1e3,
                                      " ".join("%.0f%%" % (100 * x) for x in shares)))


def flat_memory():
    """A 10-epoch run of the MLP against a 1-epoch run: peak RSS must stay flat."""
    one = run_rss([RELUA, "scripts/bench/mlp.lua", "1"])[2]
    ten = run_rss([RELUA, "scripts/bench/mlp.lua", "10"])[2]
    return "mlp peak RSS: 10 epochs %.0f MB, 1 epoch %.0f MB (ratio %.3f; goal within 10%%)" % (
        ten, one, ten / one)


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


def viz():
    """The Fashion-MNIST epoch by nn.fit with the live view on against off (relua only):
    scripts/bench/viz.lua alternates them in one process; the median over ROUNDS runs of
    its median ratio. Headless, in a terminal (a tmux pane, RELUA_VIZ=terminal) when tmux is
    there, and in the window too when there is a display. The goal is <= 1.05."""
    displays = [("headless", None)]
    if subprocess.call(["sh", "-c", "command -v tmux"], stdout=subprocess.DEVNULL) == 0:
        displays.append(("terminal", None))
    if os.environ.get("DISPLAY"):
        displays.append(("window", os.environ["DISPLAY"]))
    lines = []
    for label, display in displays:
        env = dict(BASE_ENV)
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
            lines.append("viz: fmnist %s with the view on / off (%s): %.3f (goal <= 1.05; runs %s)"
                         % (what, label, statistics.median(ratios),
                            " ".join("%.3f" % x for x in ratios)))
    return "\n".join(lines)


def ff_epoch():
    """A forward-forward epoch against a backprop epoch of the same 784-500-500 MLP, relua
    only (scripts/bench/ff_epoch.lua alternates them in one process); the goal is <= 2."""
    r = run_rss([RELUA, "scripts/bench/ff_epoch.lua"])[0]
    return "forward_forward: epoch %.2f s, backprop epoch %.2f s, ratio %.2f (goal <= 2)" % (
        r["ff_epoch_seconds"], r["bp_epoch_seconds"], r["ratio"])


def fmt(name, v):
    """A figure with its unit: MB, a plain number for ratios and counts, else seconds."""
    if v is None:
        return ""
    if name.endswith("_MB") or "_MB_" in name:
        return "%.1f MB" % v
    if "ratio" in name or "_over_" in name:
        return "%.3f" % v
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if v >= scale:
            return "%.3g %s" % (v / scale, unit)
    return "%.3g ns" % (v / 1e-9)


def ratio(x):
    return "" if x is None else "%.3f" % x


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
    got = {r["name"]: (r["relua"], r["tuned"]) for r in rows}
    if "cnn.batch_seconds" not in got:
        return
    direct = [d for _, d in sgemm_rounds] or [
        run_rss([os.path.join(BUILD, "bench_sgemm")])[0]["sgemm_1024"] for _ in range(3)]
    rate = 2 * 1024 ** 3 / min(direct)
    flops = cnn_batch_flops()
    floor = flops / rate
    mine, theirs = got["cnn.batch_seconds"]
    print("cnn: a batch is %.2f GFLOP (%.2f TFLOP an epoch of 469); at direct sgemm's %.0f GFLOP/s "
          "the floor is %.1f ms: relua %.1f ms (%.2f x floor), PyTorch %.1f ms (%.2f x floor)" %
          (flops / 1e9, flops * 469 / 1e12, rate / 1e9, floor * 1e3, mine * 1e3, mine / floor,
           theirs * 1e3, theirs / floor))


def main():
    build_tools()
    given = os.environ.get("OPENBLAS_CORETYPE")
    rows, notes = [], ["OpenBLAS kernels on every side: %s (%s%s)" % (
        openblas_core(), "BENCH_CORETYPE" if CORETYPE else "OpenBLAS's own choice",
        "; the environment's OPENBLAS_CORETYPE=%s dropped" % given if given else "")]
    if torch_cores() != [None]:
        notes.append("PyTorch at its best also tried OPENBLAS_CORETYPE=SkylakeX")
    t_start = time.time()
    for name in BENCHMARKS:
        if ONLY not in name:
            continue
        l0, t0 = load(), time.time()
        if os.path.exists("scripts/bench/%s.lua" % name) and \
                os.path.exists("scripts/bench/%s.py" % name):
            result = pair(name)
        else:
            result = globals()[name]()
        loadavg = "%.1f-%.1f" % (l0, load())
        took = time.time() - t0
        if isinstance(result, Figures):
            rows += result.results(loadavg)
        elif result:
            notes.append(result)
        if name == "mlp":
            notes.append(flat_memory())
        print("bench: %s done in %.0f s (load %s)" % (name, took, loadavg), file=sys.stderr)
    if ONLY in "cnn":
        cnn_floor(rows)
    ceiling = sgemm_ceiling()
    if ceiling:
        notes.append(ceiling)

    print("%-36s %10s %10s %10s %7s %7s  %s" % ("figure", "relua", "torch", "untuned", "ratio",
                                               "untuned", "rounds (load) [torch's best]"))
    for r in rows:
        print("%-36s %10s %10s %10s %7s %7s  %s (%s) [%s]" % (
            r["name"], fmt(r["name"], r["relua"]), fmt(r["name"], r["tuned"]),
            fmt(r["name"], r["untuned"]), ratio(r["ratio"]), ratio(r["ratio_untuned"]),
            " ".join("%.3f" % x for x in r["rounds"]), r["load"], r["won"]))
    for n in notes:
        print(n)

    print("\nFor the README (figures: best of %d rounds; ratios: median of the rounds'"
          " relua/PyTorch; load: 1-minute average before-after):\n" % ROUNDS)
    print("| figure | relua | PyTorch tuned | ratio | PyTorch untuned | ratio | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], fmt(r["name"], r["relua"]), fmt(r["name"], r["tuned"]), ratio(r["ratio"]),
            fmt(r["name"], r["untuned"]), ratio(r["ratio_untuned"]), r["load"]))
    print("\nbench: %.0f s in all" % (time.time() - t_start), file=sys.stderr)


if __name__ == "__main__":
    main()
