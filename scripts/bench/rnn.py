# scripts/bench/rnn.py: the training steps of rnn.lua in PyTorch: nn.LSTM, nn.GRU and a tanh
# nn.RNN (input 64, hidden 256, T = 100, batch 32), in both layouts (batch_first and
# seq-first; the faster counts; name_cpu: the CPU seconds of a step, all threads), then the
# peak RSS after LSTM steps at T = 100 and 1000.
import os, statistics, time
import torch

B, T, F, H = 32, 100, 64, 256
STEPS = int(os.environ.get("RNN_STEPS", "10"))


def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


def bench(cls, t, steps, batch_first):
    torch.manual_seed(1)
    m = cls(F, H, batch_first=batch_first)
    x = torch.randn(B, t, F) if batch_first else torch.randn(t, B, F)
    target = torch.randn(B, H)
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    times, cpu = [], []
    for i in range(steps + 2):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        y, _ = m(x)
        last = y[:, -1] if batch_first else y[-1]
        torch.nn.functional.mse_loss(last, target).backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpu)


for name, cls in (("lstm_step", torch.nn.LSTM), ("gru_step", torch.nn.GRU),
                  ("rnn_tanh_step", torch.nn.RNN)):
    runs = [bench(cls, T, STEPS, True), bench(cls, T, STEPS, False)]
    print(name, min(r[0] for r in runs))
    print(name + "_cpu", min(r[1] for r in runs))
bench(torch.nn.LSTM, 100, 2, False)
print("lstm_peak_MB_T100", peak_mb())
bench(torch.nn.LSTM, 1000, 1, False)
print("lstm_peak_MB_T1000", peak_mb())
