"""The live view while the REPL waits: relua.on_idle keeps a window drawn and responsive.

Run by tests/viz/run with DISPLAY set: types at build/relua in a pseudo-terminal (through
tests/repl/pty_session.py), leaves it waiting at the prompt, and checks that a key pressed
in the window and new data were handled meanwhile. Prints "ok"/"not ok" lines.
usage: repl_idle.py RELUA BUILD SCRATCH
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "repl"))
from pty_session import Session, Timeout  # noqa: E402

SLOW = 4 if os.environ.get("RELUA_ASAN") else 1
PROMPT = r"relua> $"


def poll(s, probe, pattern, seconds):
    """Types probe at the prompt until its output matches pattern (idle time in between)."""
    deadline = time.monotonic() + seconds
    while True:
        s.line(probe)
        m = s.expect(pattern, 5 * SLOW)
        s.expect(PROMPT, 5 * SLOW)
        if m.group(1) == "yes" or time.monotonic() > deadline:
            return m.group(1) == "yes"
        time.sleep(0.1)  # the prompt waits: relua.on_idle runs about 30 times a second


def main():
    relua, build, scratch = sys.argv[1:4]
    env = dict(os.environ, TERM="xterm", INPUTRC="/dev/null", HOME=scratch,
               RELUA_HISTORY=os.path.join(scratch, "history"))
    s = Session([relua], env=env, cwd=scratch)
    failed = 0
    try:
        s.expect(PROMPT, 10 * SLOW)
        s.line('package.cpath = "%s/?.so;" .. package.cpath; viz = require "viz"' % build)
        s.expect(PROMPT, 10 * SLOW)
        s.line('v = viz.open{width = 320, height = 240}; print("headless", v.headless)')
        s.expect(r"headless\s+false", 10 * SLOW)
        s.expect(PROMPT, 5 * SLOW)
        checks = [
            ("a key pressed while the prompt waits is handled",
             'v:_key("l")', 'print("log", v:log() and "yes" or "no")', r"log\s+(yes|no)"),
            ("new data is drawn while the prompt waits",
             'f = v.frames; v:plot("train", 1, 1)',
             'print("drawn", v.frames > f and "yes" or "no")', r"drawn\s+(yes|no)"),
        ]
        for n, (name, setup, probe, pattern) in enumerate(checks, 1):
            s.line(setup)
            s.expect(PROMPT, 5 * SLOW)
            ok = poll(s, probe, pattern, 5 * SLOW)
            print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
            failed += not ok
        s.line("os.exit(0)")
        s.wait(10 * SLOW)
    except Timeout as e:
        print("not ok - the REPL session: %s" % e)
        failed += 1
    finally:
        s.close()
    sys.exit(1 if failed else 0)


main()
