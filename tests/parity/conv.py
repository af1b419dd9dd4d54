# tests/parity/conv.py: PyTorch's Conv2d and Conv1d on fixed and random shapes (stride 1 and
# 2, padding 0/1/2, dilation 1 and 2, groups 1 to 3, with and without bias), f64 and f32.
# With --save PATH it writes each case's module state dict (PyTorch's init and names), input,
# output weights and attributes as one safetensors file, which conv.lua loads into relua's
# modules; without, it prints the outputs and the gradients of input, weight and bias.
import json, random, struct, sys
import torch

FIXED = [  # spatial, n, cin, cout, size, k, stride, padding, dilation, groups, bias
    (2, 2, 3, 4, (6, 5), (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    (2, 2, 3, 4, (7, 6), (3, 2), (2, 2), (1, 1), (1, 1), 1, True),
    (2, 1, 2, 3, (6, 7), (3, 3), (1, 2), (2, 2), (2, 2), 1, False),
    (2, 3, 4, 6, (5, 5), (3, 3), (2, 1), (1, 0), (1, 1), 2, True),
    (2, 2, 6, 6, (5, 6), (1, 1), (1, 1), (0, 0), (1, 1), 3, True),
    (1, 2, 3, 4, (1, 9), (1, 3), (1, 2), (0, 1), (1, 1), 1, True),
    (1, 2, 4, 4, (1, 10), (1, 3), (1, 1), (0, 2), (1, 2), 2, False),
    # 128 or more output positions: the image layout (a GEMM per image)
    (2, 3, 4, 6, (16, 12), (3, 3), (1, 1), (1, 1), (1, 1), 2, True),
    (2, 2, 1, 5, (28, 28), (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    (2, 2, 3, 4, (30, 25), (3, 2), (2, 1), (2, 0), (2, 1), 1, False),
    (1, 2, 3, 4, (1, 300), (1, 5), (1, 2), (0, 2), (1, 1), 1, True),
    # 8 or more output channels, stride 1, one group: the direct path where there is AVX-512
    (2, 2, 8, 16, (7, 9), (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    (2, 2, 4, 8, (6, 6), (3, 3), (1, 1), (2, 1), (2, 1), 1, False),
    (2, 2, 1, 8, (10, 12), (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    (2, 2, 3, 8, (9, 8), (5, 3), (1, 1), (0, 1), (1, 1), 1, True),
    (1, 2, 3, 8, (1, 20), (1, 3), (1, 1), (0, 1), (1, 1), 1, True),
    (2, 2, 24, 8, (5, 6), (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
]


def random_cases(count):
    rng = random.Random(1234)
    out = []
    while len(out) < count:
        spatial = rng.choice((1, 2))
        groups = rng.choice((1, 1, 2, 3))
        cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        k = (1 if spatial == 1 else rng.randint(1, 4), rng.randint(1, 4))
        stride = (1 if spatial == 1 else rng.randint(1, 2), rng.randint(1, 3))
        padding = (0 if spatial == 1 else rng.randint(0, 2), rng.randint(0, 2))
        dilation = (1 if spatial == 1 else rng.randint(1, 2), rng.randint(1, 2))
        size = (1 if spatial == 1 else rng.randint(1, 9), rng.randint(1, 12))
        if any((k[d] - 1) * dilation[d] + 1 > size[d] + 2 * padding[d] for d in (0, 1)):
            continue
        out.append((spatial, rng.randint(1, 3), cin, cout, size, k, stride, padding, dilation,
                    groups, rng.random() < 0.7))
    return out


SPECS = FIXED + random_cases(16)


def cases():
    for i, spec in enumerate(SPECS):
        dname = "f32" if i % 3 == 2 else "f64"
        yield "conv%d:%s" % (i + 1, dname), spec, torch.float32 if dname == "f32" else torch.float64


def make(i, spec, dtype):
    spatial, n, cin, cout, size, k, stride, padding, dilation, groups, bias = spec
    torch.manual_seed(100 + i)
    if spatial == 2:
        m = torch.nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias)
        x = torch.randn(n, cin, *size, dtype=dtype)
    else:
        m = torch.nn.Conv1d(cin, cout, k[1], stride[1], padding[1], dilation[1], groups, bias)
        x = torch.randn(n, cin, size[1], dtype=dtype)
    m = m.to(dtype)
    wy = torch.randn(m(x).shape, dtype=dtype)
    attrs = torch.tensor([spatial, *k, *stride, *padding, *dilation, groups, int(bias)],
                         dtype=torch.int64)
    return m, {"x": x, "wy": wy, "attrs": attrs}


def save(path):
    tensors = {}
    for i, (case, spec, dtype) in enumerate(cases()):
        m, data = make(i, spec, dtype)
        for name, p in list(m.state_dict().items()) + list(data.items()):
            tensors[case + "." + name] = p
    header, blobs, offset = {}, [], 0
    names = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64"}
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def line(name, t):
    print("%s %s" % (name, " ".join("%.12g" % v for v in t.detach().reshape(-1).tolist())))


def report():
    for i, (case, spec, dtype) in enumerate(cases()):
        m, data = make(i, spec, dtype)
        x = data["x"].clone().requires_grad_()
        y = m(x)
        (y * data["wy"]).sum().backward()
        line(case + ".y", y)
        line(case + ".grad.x", x.grad)
        for name, p in m.named_parameters():
            line(case + ".grad." + name, p.grad)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--save":
        save(sys.argv[2])
    else:
        report()
