# scripts/bench/rnn.py: the training steps of rnn.lua in PyTorch: nn.LSTM, nn.GRU and a tanh
# nn.RNN (input 64, hidden 256, T = 100, batch 32), in both layouts (batch_first and
# seq-first; the faster counts), then the peak RSS after LSTM steps at T = 100 and 1000.
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
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        y, _ = m(x)
        last = y[:, -1] if batch_first else y[-1]
        torch.nn.functional.mse_loss(last, target).backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


for name, cls in (("lstm_step", torch.nn.LSTM), ("gru_step", torch.nn.GRU),
                  ("rnn_tanh_step", torch.nn.RNN)):
    print(name, min(bench(cls, T, STEPS, True), bench(cls, T, STEPS, False)))
bench(torch.nn.LSTM, 100, 2, False)
print("lstm_peak_MB_T100", peak_mb())
bench(torch.nn.LSTM, 1000, 1, False)
print("lstm_peak_MB_T1000", peak_mb())
