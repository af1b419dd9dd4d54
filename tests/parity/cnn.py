# tests/parity/cnn.py: PyTorch's max_pool2d, avg_pool2d, adaptive_avg_pool2d and
# BatchNorm2d (training, then evaluation) on random shapes and window settings, in f64 and
# f32. With --save PATH it writes each case's input x, output weights wy, settings (an i64
# tensor) and BatchNorm's weight and bias as safetensors for cnn.lua; without, it prints
# each output and the gradients of sum(y * wy) for cnn.lua to be compared with.
import json, random, struct, sys
import torch
import torch.nn.functional as F


def settings():
    """(name, kind, dtype, shape, attrs): attrs are kh kw sh sw ph pw ceil_mode
    count_include_pad for pools, oh ow for the adaptive pool, nothing for batch norm."""
    rng = random.Random(7)
    out = []
    for dname, dtype in [("f64", torch.float64), ("f32", torch.float32)]:
        for i in range(6):
            for kind in ["max", "avg"]:
                kh, kw = rng.randint(1, 4), rng.randint(1, 4)
                sh, sw = rng.randint(1, 3), rng.randint(1, 3)
                ph, pw = rng.randint(0, kh // 2), rng.randint(0, kw // 2)
                ceil, incl = rng.randint(0, 1), rng.randint(0, 1)
                shape = [rng.randint(1, 3), rng.randint(1, 3), rng.randint(kh, 9), rng.randint(kw, 9)]
                if i % 4 == 3:
                    shape = shape[1:]
                out.append(("%s%d:%s" % (kind, i, dname), kind, dtype, shape,
                            [kh, kw, sh, sw, ph, pw, ceil, incl]))
        for i in range(4):
            shape = [rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 9), rng.randint(1, 9)]
            out.append(("adaptive%d:%s" % (i, dname), "adaptive", dtype, shape,
                        [rng.randint(1, shape[2] + 1), rng.randint(1, shape[3])]))
        for i in range(3):
            shape = [rng.randint(2, 5), rng.randint(1, 4), rng.randint(1, 6), rng.randint(1, 6)]
            out.append(("bn%d:%s" % (i, dname), "bn", dtype, shape, [0]))
    return out


def inputs(case, dtype, shape):
    torch.manual_seed(sum(map(ord, case)))
    x = torch.randn(*shape, dtype=dtype) * 2 + 0.5
    c = shape[-3]
    return {"x": x, "w": torch.randn(c, dtype=dtype), "b": torch.randn(c, dtype=dtype),
            "rm": torch.randn(c, dtype=dtype), "rv": torch.rand(c, dtype=dtype) + 0.5}


def run(kind, dtype, shape, attrs, d):
    x = d["x"].clone().requires_grad_(True)
    res = {}
    if kind in ("max", "avg"):
        kh, kw, sh, sw, ph, pw, ceil, incl = attrs
        if kind == "max":
            y = F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil))
        else:
            y = F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil),
                             count_include_pad=bool(incl))
    elif kind == "adaptive":
        y = F.adaptive_avg_pool2d(x, attrs)
    else:
        m = torch.nn.BatchNorm2d(shape[1]).to(dtype)
        with torch.no_grad():
            m.weight.copy_(d["w"]), m.bias.copy_(d["b"])
            m.running_mean.copy_(d["rm"]), m.running_var.copy_(d["rv"])
        y = m(x)
        res["running_mean"], res["running_var"] = m.running_mean, m.running_var
        res["num_batches_tracked"] = m.num_batches_tracked.to(dtype)
        m.eval()
        res["eval"] = m(d["x"] * 0.5)
    wy = torch.randn(y.shape, dtype=dtype, generator=torch.Generator().manual_seed(3))
    (y * wy).sum().backward()
    res["y"], res["grad.x"] = y, x.grad
    if kind == "bn":
        res["grad.weight"], res["grad.bias"] = m.weight.grad, m.bias.grad
    return res, wy


def save(path):
    tensors = {}
    for case, kind, dtype, shape, attrs in settings():
        d = inputs(case, dtype, shape)
        _, wy = run(kind, dtype, shape, attrs, d)
        d["wy"], d["attrs"] = wy, torch.tensor(attrs, dtype=torch.int64)
        for k, t in d.items():
            tensors[case + "." + k] = t
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


def report():
    for case, kind, dtype, shape, attrs in settings():
        res, _ = run(kind, dtype, shape, attrs, inputs(case, dtype, shape))
        for k, t in res.items():
            v = t.detach().double().reshape(-1).tolist()
            print("%s.%s %s" % (case, k, " ".join("%.12g" % e for e in v)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--save":
        save(sys.argv[2])
    else:
        report()
