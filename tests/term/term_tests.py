"""The live view in a real terminal (tests/term/run BUILD).

Each test runs relua in a fresh tmux pane of 120x40 on a private tmux server (-L, no config
file) and reads the screen back with capture-pane, polling with a deadline rather than
sleeping a fixed time. The terminal's state after relua comes from tmux itself: its scrolling
region (#{scroll_region_upper}, #{scroll_region_lower}) and whether the cursor is shown
(#{cursor_flag}); the tty's mode from `stty -a` run in the same pane afterwards.

The last tests drive relua through a bare pseudo-terminal that answers the terminal queries
as kitty, a sixel terminal or a silent one would, and check the mode chosen and the first bytes
of the frame.
"""
import os
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
RELUA = os.path.join(BUILD, "relua")
HERE = os.path.dirname(os.path.abspath(__file__))
FIT = os.path.join(HERE, "fit.lua")
SOCKET = "relua-term-%d" % os.getpid()
BRAILLE = re.compile("[\u2801-\u28ff]")
failures = 0


def tmux(*args, check=True):
    r = subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("tmux %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


class Pane:
    def __init__(self, name, command, cols=120, rows=40):
        self.name = name
        env = "env -u COLORTERM -u NO_COLOR -u RELUA_VIZ_TERM -u DISPLAY -u WAYLAND_DISPLAY "
        env += "TERM=tmux-256color RELUA_VIZ=terminal "
        tmux("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows),
             "cd %s && %s%s; echo EXIT=$?; stty -a; sleep 600" % (
                 shlex.quote(os.getcwd()), env, command))

    def screen(self, history=False, escapes=False):
        args = ["capture-pane", "-p", "-t", self.name]
        if history:
            args += ["-S", "-", "-E", "-"]
        if escapes:
            args.append("-e")
        return tmux(*args)

    def display(self, fmt):
        return tmux("display", "-p", "-t", self.name, fmt).strip()

    def wait(self, pred, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s; the screen:\n%s" % (what, self.screen()))

    def keys(self, *keys):
        tmux("send-keys", "-t", self.name, *keys)

    def close(self):
        tmux("kill-session", "-t", self.name, check=False)


def ok(name, fn):
    global failures
    pane = None
    try:
        pane = fn()
        print("ok - %s" % name)
    except Exception as e:  # noqa: BLE001 (a test's failure, whatever it is)
        failures += 1
        print("not ok - %s" % name)
        for line in str(e).splitlines():
            print("# " + line)
    finally:
        if isinstance(pane, Pane):
            pane.close()


def panels_shown(s):
    return ("loss" in s and "activation sparsity" in s and "ReLU partition" in s
            and len(BRAILLE.findall(s)) > 200)


def check_clean(p):
    """The scrolling region is the whole screen, the cursor shown, the tty canonical and
    echoing, and text printed afterwards has no attributes."""
    rows = int(p.display("#{pane_height}"))
    region = p.display("#{scroll_region_upper} #{scroll_region_lower}")
    assert region == "0 %d" % (rows - 1), "the scrolling region is %s" % region
    assert p.display("#{cursor_flag}") == "1", "the cursor is hidden"
    s = p.wait(lambda s: "speed" in s, "stty's report")
    assert re.search(r"(^|\s)icanon(\s|$)", s) and re.search(r"(^|\s)echo(\s|$)", s), \
        "the tty is not canonical with echo:\n" + s
    after = [l for l in p.screen(escapes=True).splitlines() if "EXIT=" in l]
    assert after and "\x1b[" not in after[-1], "attributes leak: %r" % after


def test_fit():
    p = Pane("fit", "%s %s 60" % (shlex.quote(RELUA), shlex.quote(FIT)))
    s = p.wait(panels_shown, "the panels during training")
    assert "p pause" in s and "q close" in s, "no key hints in the header:\n" + s
    lines = s.splitlines()
    first_panel = next(i for i, l in enumerate(lines) if BRAILLE.search(l))
    # the view holds the bottom of the screen; the log scrolls above it
    assert first_panel >= 8, "the view starts at line %d" % first_panel
    s = p.wait(lambda s: "EXIT=" in s, "the end", timeout=120)
    assert "EXIT=0" in s, s
    history = p.screen(history=True)
    for e in range(1, 61):
        assert re.search(r"^epoch %d/60 loss \d" % e, history, re.M), "epoch %d's line is gone" % e
    assert "log line before training" in history
    assert "fit returned 60 epochs" in s
    # the last frame stays, the log above it, what follows below it
    lines = s.splitlines()
    frame = [i for i, l in enumerate(lines) if BRAILLE.search(l)]
    assert frame, "the last frame is gone:\n" + s
    end = next(i for i, l in enumerate(lines) if "fit returned" in l)
    assert end > frame[-1], "the output after nn.fit is not below the view"
    check_clean(p)
    return p


def test_interrupt():
    p = Pane("int", "%s %s 100000" % (shlex.quote(RELUA), shlex.quote(FIT)))
    p.wait(panels_shown, "the panels")
    p.keys("C-c")
    s = p.wait(lambda s: "EXIT=" in s, "the end after Ctrl-C")
    assert "interrupted" in s and "(interrupted)" in s, s
    check_clean(p)
    return p


def test_keys():
    p = Pane("keys", "%s %s 100000" % (shlex.quote(RELUA), shlex.quote(FIT)))
    p.wait(panels_shown, "the panels")
    p.keys("p")
    p.wait(lambda s: "paused (p resumes)" in s, "the pause")
    time.sleep(0.3)  # the frame that says so may still be on its way to the screen
    step = re.findall(r"ReLU partition, step (\d+)", p.screen())
    time.sleep(0.5)
    assert re.findall(r"ReLU partition, step (\d+)", p.screen()) == step, "training went on"
    p.keys("p")
    p.wait(lambda s: "paused" not in s and re.findall(r"ReLU partition, step (\d+)", s) != step,
           "training again")
    p.keys("q")
    rows = int(p.display("#{pane_height}"))
    deadline = time.monotonic() + 10
    while p.display("#{scroll_region_lower}") != str(rows - 1):
        assert time.monotonic() < deadline, "q left the scrolling region"
        time.sleep(0.1)
    assert "EXIT=" not in p.screen(), "q ended training"
    p.wait(lambda s: not BRAILLE.search(s), "the log scrolling over the closed view")
    p.keys("C-c")
    p.wait(lambda s: "EXIT=" in s, "the end")
    check_clean(p)
    return p


def test_resize():
    p = Pane("resize", "%s %s 100000" % (shlex.quote(RELUA), shlex.quote(FIT)))
    p.wait(panels_shown, "the panels")
    tmux("resize-window", "-t", "resize", "-x", "100", "-y", "30")

    def redrawn(s):
        heads = [l.rstrip() for l in s.splitlines() if "nn.fit" in l and "q close" in l]
        return panels_shown(s) and heads and all(len(h) <= 100 for h in heads) and \
            int(p.display("#{scroll_region_lower}")) < 29
    s = p.wait(redrawn, "the view at 100x30")
    lines = s.splitlines()
    assert len(lines) <= 30
    p.keys("C-c")
    p.wait(lambda s: "EXIT=" in s, "the end")
    check_clean(p)
    return p


def test_show():
    code = ("local viz = require 'viz' local v = viz.open{backend = 'offscreen'} "
            "for i = 1, 50 do v:plot('train', i, 1 / i) end print(v) v:show(12) print('after')")
    p = Pane("show", "%s -e %s" % (shlex.quote(RELUA), shlex.quote(code)))
    s = p.wait(lambda s: "EXIT=" in s, "the end")
    lines = s.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("viz.View"))
    assert lines[i] == "viz.View 960x600 (offscreen)", lines[i]
    j = next(k for k, l in enumerate(lines) if l == "after")
    assert j - i - 1 == 12, "v:show(12) printed %d lines" % (j - i - 1)
    assert "loss" in "\n".join(lines[i:j]) and BRAILLE.search("\n".join(lines[i:j]))
    code = ("local viz = require 'viz' local v = viz.open{backend = 'terminal', rows = 10} "
            "print(v) v:close() print(v.backend, v.closed)")
    p2 = Pane("print", "%s -e %s" % (shlex.quote(RELUA), shlex.quote(code)))
    p2.wait(lambda s: "EXIT=" in s, "the end")
    s = p2.screen(history=True)  # closing puts the cursor below the view: a line scrolls off
    p2.close()
    assert "viz.View terminal 120x10 cells, text (braille, 256 colors)" in s, s
    assert "terminal\ttrue" in s.replace("    ", "\t") or re.search(r"terminal\s+true", s), s
    return p


# ---- the terminal's answers, through a bare pseudo-terminal ----

def talk(answers, code):
    """Runs relua -e code on a pty that answers queries: answers(query bytes) -> reply.
    Returns everything relua wrote."""
    pid, fd = pty.fork()
    if pid == 0:
        env = {k: v for k, v in os.environ.items()
               if k not in ("TMUX", "KITTY_WINDOW_ID", "TERM_PROGRAM", "RELUA_VIZ_TERM",
                            "DISPLAY", "WAYLAND_DISPLAY", "COLORTERM")}
        env.update(TERM="xterm-256color", RELUA_VIZ="terminal")
        os.execve(RELUA, [RELUA, "-e", code], env)
    out, answered = b"", 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if answered == 0 and b"\x1b[c" in out:
            answered = 1
            reply = answers(out)
            if reply:
                os.write(fd, reply)
    os.waitpid(pid, 0)
    os.close(fd)
    return out


SHOW_MODE = ("local viz = require 'viz' local v = viz.open{rows = 8} v:plot('train', {1, 2}, {2, 1}) "
             "v:update() io.write('\\n[', tostring(v), ']\\n') v:close()")


def test_kitty_answer():
    def kitty(q):
        assert b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\" in q, q
        return b"\x1b_Gi=31;OK\x1b\\\x1b[5;1R\x1b[?62;22c"
    out = talk(kitty, SHOW_MODE)
    assert b"[viz.View terminal 80x" in out and b"kitty graphics]" in out, out[-300:]
    assert b"\x1b_Ga=T,f=24," in out and b",o=z,i=7351,p=1,c=80," in out


def test_sixel_answer():
    out = talk(lambda q: b"\x1b[5;1R\x1b[?62;4;22c", SHOW_MODE)
    assert b"sixel]" in out, out[-300:]
    assert b"\x1bPq\"1;1;" in out


def test_silent_terminal():
    t0 = time.monotonic()
    out = talk(lambda q: None, SHOW_MODE)
    assert b"text (braille, 256 colors)]" in out, out[-300:]
    assert time.monotonic() - t0 < 10
    assert "\u2800".encode()[:2] in out  # braille (U+28xx) drawn


def main():
    if not os.access(RELUA, os.X_OK):
        print("not ok - %s is missing (make first)" % RELUA)
        return 1
    try:
        ok("nn.fit draws panels in the terminal; the log stays; clean at the end", test_fit)
        ok("Ctrl-C during nn.fit leaves a clean terminal", test_interrupt)
        ok("p pauses and resumes, q closes the view and training goes on", test_keys)
        ok("resizing the terminal redraws at the new size", test_resize)
        ok("v:show() prints panels inline; print(v) names the backend", test_show)
        ok("a terminal answering kitty's query gets kitty graphics", test_kitty_answer)
        ok("a terminal with sixel in its attributes gets sixel", test_sixel_answer)
        ok("a terminal that answers nothing gets text", test_silent_terminal)
    finally:
        tmux("kill-server", check=False)
    print("# term: %d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
