"""tests/parity/compare.py RELUA_OUT TORCH_OUT: one "ok"/"not ok" line per case, comparing
"name v1 v2 ..." lines (same count of values, each within 1e-6 relative + 1e-9 absolute; cases
whose name contains ":f32" run in single precision and get 1e-4 relative + 1e-5 absolute)."""
import math, sys


def read(path):
    cases = {}
    for line in open(path):
        name, *values = line.split()
        cases[name] = [float(v) for v in values]
    return cases


def close(x, y, loose=False):
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if loose:
        return abs(x - y) <= 1e-5 + 1e-4 * abs(y)
    return abs(x - y) <= 1e-9 + 1e-6 * abs(y)


mine, theirs = read(sys.argv[1]), read(sys.argv[2])
failed = 0
for name, want in theirs.items():
    got = mine.get(name)
    if got is None:
        print("not ok parity %s: missing in relua's output" % name)
    elif len(got) != len(want):
        print("not ok parity %s: %d values, PyTorch has %d" % (name, len(got), len(want)))
    else:
        bad = [i for i, (x, y) in enumerate(zip(got, want)) if not close(x, y, ":f32" in name)]
        if bad:
            i = bad[0]
            print("not ok parity %s: element %d is %r, PyTorch %r" % (name, i + 1, got[i], want[i]))
        else:
            print("ok parity %s" % name)
            continue
    failed += 1
sys.exit(1 if failed else 0)
