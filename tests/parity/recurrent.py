# tests/parity/recurrent.py: PyTorch's nn.RNN (tanh, relu), nn.LSTM and nn.GRU, 2 layers,
# batch_first, with initial states, in f64 and f32. With --save PATH it writes its weights,
# inputs and output weights as a safetensors file (PyTorch's initialization and state-dict
# names; recurrent.lua loads it into relua's layers); without, it prints the outputs and the
# gradients of every input and parameter for recurrent.lua to be compared with.
import json, struct, sys
import torch

B, T, F, H, L = 3, 5, 4, 6, 2
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def make(kind, dtype):
    torch.manual_seed(KINDS.index(kind) + (0 if dtype == torch.float64 else 10))
    if kind == "lstm":
        m = torch.nn.LSTM(F, H, num_layers=L, batch_first=True)
    elif kind == "gru":
        m = torch.nn.GRU(F, H, num_layers=L, batch_first=True)
    else:
        m = torch.nn.RNN(F, H, num_layers=L, batch_first=True, nonlinearity=kind[4:])
    m = m.to(dtype)
    data = {"x": torch.randn(B, T, F, dtype=dtype), "h0": torch.randn(L, B, H, dtype=dtype),
            "c0": torch.randn(L, B, H, dtype=dtype), "wy": torch.randn(B, T, H, dtype=dtype),
            "wh": torch.randn(L, B, H, dtype=dtype), "wc": torch.randn(L, B, H, dtype=dtype)}
    return m, data


def cases():
    for kind in KINDS:
        for dtype, dname in [(torch.float64, "f64"), (torch.float32, "f32")]:
            yield kind + ":" + dname, kind, dtype


def save(path):
    tensors = {}
    for case, kind, dtype in cases():
        m, data = make(kind, dtype)
        for name, p in m.state_dict().items():
            tensors[case + "." + name] = p
        for name, t in data.items():
            tensors[case + "." + name] = t
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64" if t.dtype == torch.float64 else "F32",
                        "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def line(name, t):
    print("%s %s" % (name, " ".join("%.12g" % v for v in t.detach().reshape(-1).tolist())))


def report():
    for case, kind, dtype in cases():
        m, d = make(kind, dtype)
        x, h0, c0 = d["x"].requires_grad_(), d["h0"].requires_grad_(), d["c0"].requires_grad_()
        if kind == "lstm":
            y, (hn, cn) = m(x, (h0, c0))
            loss = (y * d["wy"]).sum() + (hn * d["wh"]).sum() + (cn * d["wc"]).sum()
            inputs = [("x", x), ("h0", h0), ("c0", c0)]
        else:
            y, hn = m(x, h0)
            loss = (y * d["wy"]).sum() + (hn * d["wh"]).sum()
            inputs = [("x", x), ("h0", h0)]
        loss.backward()
        line(case + ".y", y)
        line(case + ".h_n", hn)
        if kind == "lstm":
            line(case + ".c_n", cn)
        for name, t in inputs:
            line(case + ".grad." + name, t.grad)
        for name, p in m.named_parameters():
            line(case + ".grad." + name, p.grad)


if len(sys.argv) == 3 and sys.argv[1] == "--save":
    save(sys.argv[2])
else:
    report()
