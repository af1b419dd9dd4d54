"""tests/data/io_interop.py DIR: the numpy/PyTorch side of tests/c/test_io.c.

1. Checks the files relua wrote into DIR: .npy files with numpy (values, and byte for byte
   what numpy.save writes), relua.safetensors with a small reader written here (struct +
   json), which also checks the layout rules (padding, tiling, order, alignment).
2. Writes files for relua to read: .npy files from numpy in many dtypes and orders, and
   torch.safetensors laid out by hand from torch tensors, in a layout unlike relua's own.
Exit status 0 when everything matched (77 when numpy or torch is missing); prints what
did not match.
"""
import io
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # the C test reports a skip
    print("io_interop: skipped (%s)" % e)
    sys.exit(77)

DIR = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("io_interop: MISMATCH", what, file=sys.stderr)


# ---- the patterns tests/c/test_io.c fills its tensors with (value i of a flat tensor) ----
def pattern(dtype, shape):
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64)
    if dtype == np.float32:
        v = (i * 0.5 - 1).astype(np.float32)
    elif dtype == np.float64:
        v = i / 8 + 0.25
    elif dtype == np.int64:
        v = i * (1 << 40) - 3
    else:
        v = ((250 + i) % 256).astype(np.uint8)
    return v.reshape(shape)


RELUA = {  # name: the array relua saved
    "f32": pattern(np.float32, (2, 3)),
    "f64_scalar": pattern(np.float64, ()),
    "i64": pattern(np.int64, (4,)),
    "u8": pattern(np.uint8, (2, 1, 3)),
    "empty": pattern(np.float32, (0, 3)),
    "f64_t": np.ascontiguousarray(pattern(np.float64, (2, 3)).T),
}


def check_relua_npy():
    for name, want in RELUA.items():
        path = os.path.join(DIR, "relua_%s.npy" % name)
        got = np.load(path, allow_pickle=False)
        check(got.dtype == want.dtype and got.shape == want.shape, "%s: %s %s" % (path, got.dtype, got.shape))
        check(np.array_equal(got, want), "%s: values" % path)
        ref = io.BytesIO()
        np.save(ref, want)
        check(open(path, "rb").read() == ref.getvalue(), "%s: bytes differ from numpy.save" % path)


ST_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8}
RANK = {"I64": 3, "F64": 2, "F32": 1, "U8": 0}  # the reference writer's order


def read_safetensors(path):
    """An independent reader: enforces the format's rules, returns (tensors, metadata, order)."""
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    check(n % 8 == 0, "%s: header length %d is not a multiple of 8" % (path, n))
    text = blob[8 : 8 + n].decode("utf-8")
    check(text.rstrip(" ").endswith("}"), "%s: header is not padded with spaces" % path)
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    check(len(set(keys)) == len(keys), "%s: duplicate keys" % path)
    meta = {}
    if keys and keys[0] == "__metadata__":
        meta = dict(pairs[0][1])
        pairs = pairs[1:]
    entries = [(k, dict(v)) for k, v in pairs]
    entries.sort(key=lambda e: tuple(e[1]["data_offsets"]))
    at, tensors, order = 0, {}, []
    for name, e in entries:
        begin, end = e["data_offsets"]
        dt = np.dtype(ST_DTYPES[e["dtype"]])
        check(begin == at, "%s: %s begins at %d, not %d" % (path, name, begin, at))
        check(begin % dt.itemsize == 0, "%s: %s is not aligned" % (path, name))
        shape = tuple(e["shape"])
        check(end - begin == int(np.prod(shape, dtype=np.int64)) * dt.itemsize, "%s: %s size" % (path, name))
        data = blob[8 + n + begin : 8 + n + end]
        tensors[name] = torch.from_numpy(np.frombuffer(data, dtype=dt).copy().reshape(shape))
        order.append((e["dtype"], name))
        at = end
    check(8 + n + at == len(blob), "%s: data does not end the file" % path)
    check(order == sorted(order, key=lambda o: (-RANK[o[0]], o[1])), "%s: layout order %s" % (path, order))
    return tensors, meta


def check_relua_safetensors():
    path = os.path.join(DIR, "relua.safetensors")
    tensors, meta = read_safetensors(path)
    check(meta == {"format": "pt", "note": "h\u00e9llo"}, "%s: metadata %r" % (path, meta))
    check(sorted(tensors) == sorted(RELUA), "%s: names %s" % (path, sorted(tensors)))
    for name, want in RELUA.items():
        got = tensors.get(name)
        check(got is not None and torch.equal(got, torch.from_numpy(want)), "%s: tensor %s" % (path, name))


def write_npy():
    def save(name, a, **kw):
        np.save(os.path.join(DIR, name), a, **kw)

    save("np_f4.npy", np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1)
    save("np_f8_fortran.npy", np.asfortranarray(np.arange(12.0).reshape(3, 4)))
    save("np_f4_transposed.npy", np.arange(6, dtype=np.float32).reshape(2, 3).T)
    save("np_i8.npy", np.arange(3, dtype=np.int64) * (1 << 40) - 3)
    save("np_u1.npy", np.array([0, 128, 255], dtype=np.uint8))
    save("np_b1.npy", np.array([True, False, True]))
    save("np_i4.npy", np.array([-(2**31), -1, 2**31 - 1], dtype=np.int32))
    save("np_be_f8.npy", np.arange(3, dtype=">f8") + 0.25)
    save("np_be_i2.npy", np.array([-300, 5, 32767], dtype=">i2"))
    save("np_f2.npy", np.array([1.0, -2.5, 2.0**-24], dtype=np.float16))
    save("np_scalar.npy", np.array(7.5, dtype=np.float32))
    save("np_empty.npy", np.zeros((0, 3), dtype=np.float32))
    save("np_object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with open(os.path.join(DIR, "np_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(6.0).reshape(2, 3), version=(2, 0))


def raw(t):
    """A torch tensor's little-endian bytes (bf16 through its int16 view: numpy has none)."""
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.contiguous().numpy().tobytes()


def write_torch_safetensors():
    tensors = {
        "a_bf16": torch.tensor([1.0, -2.0, 0.15625, 256.0], dtype=torch.bfloat16),
        "b_f16": torch.tensor([0.5, -1.5, 1024.0], dtype=torch.float16),
        "c_i32": torch.tensor([[-5, 7], [2**31 - 1, -(2**31)]], dtype=torch.int32),
        "d_bool": torch.tensor([True, False, True, True]),
        "e_i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "f_i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "g_u16": np.array([65535, 0], dtype=np.uint16),  # torch 1.13 has no uint16
        "h_u32": np.array([2**32 - 1, 1], dtype=np.uint32),
        "i_f64": torch.tensor(2.5, dtype=torch.float64),
        "j_i64": torch.tensor([-1, 2**53, 5], dtype=torch.int64),
        "k_u8": torch.tensor([0, 255], dtype=torch.uint8),
        "l_empty": torch.zeros(0, 4),
        "m_f32": torch.arange(4, dtype=torch.float32).reshape(2, 2) * 1.5,
    }
    names = {torch.bfloat16: "BF16", torch.float16: "F16", torch.int32: "I32", torch.bool: "BOOL",
             torch.int16: "I16", torch.int8: "I8", torch.float64: "F64", torch.int64: "I64",
             torch.uint8: "U8", torch.float32: "F32", np.dtype(np.uint16): "U16",
             np.dtype(np.uint32): "U32"}
    header, data = {}, b""
    for name in sorted(tensors):  # by name, unaligned: unlike relua's writer
        t = tensors[name]
        b = raw(t) if isinstance(t, torch.Tensor) else t.tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    header["__metadata__"] = {"framework": "torch"}
    text = ("\n " + json.dumps(header, indent=1) + "  ").encode()
    with open(os.path.join(DIR, "torch.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


check_relua_npy()
check_relua_safetensors()
write_npy()
write_torch_safetensors()
sys.exit(1 if failures else 0)
