"""REPL and command-line tests of build/relua.

The REPL tests type at a real build/relua in a pseudo-terminal (pty_session.py) and wait for
the expected output with timeouts; the command-line tests run it with pipes. Each test is a
function named test_*; run_all prints one line per test and a closing count.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

from pty_session import Session

SLOW = 4 if os.environ.get("RELUA_ASAN") else 1  # sanitizers slow startup and everything else
T = 5 * SLOW  # seconds to wait for any one expected output
PROMPT = r"relua> $"
PROMPT2 = r"  \.\.> $"
CTRL_A, CTRL_C, CTRL_D, CTRL_E, CTRL_U = "\x01", "\x03", "\x04", "\x05", "\x15"
UP = "\x1b[A"

RELUA = None  # absolute path of the relua under test
TMP = None  # a scratch directory, also HOME of every session


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("LUA_INIT")}
    e.update(TERM="xterm", INPUTRC="/dev/null", HOME=TMP, LC_ALL="C.UTF-8",
             RELUA_HISTORY=os.path.join(TMP, "history"))
    e.update(extra)
    return e


class Repl(Session):
    """relua at its prompt. Keys are sent only once relua waits for them: keys typed ahead
    while Lua runs meet a terminal in cooked mode, where Ctrl-C flushes them and Ctrl-D is
    no key at all."""

    def __init__(self, args=(), **extra_env):
        super().__init__([RELUA] + list(args), env=env(**extra_env), cwd=TMP)
        self.expect(PROMPT, T)

    def expect(self, pattern, timeout=T):
        m = super().expect(pattern, timeout)
        self.at_prompt = pattern in (PROMPT, PROMPT2)
        return m

    def send(self, data):
        self.at_prompt = False
        super().send(data)

    def run(self, line):
        """Types a line, waits for its echo."""
        self.line(line)
        self.expect(r"\n")

    def eval(self, line, pattern):
        """Types a line, expects pattern in its output, then the next prompt."""
        self.run(line)
        m = self.expect(pattern)
        self.expect(PROMPT)
        return m

    def quit(self):
        if not self.at_prompt:
            self.expect(PROMPT)
        self.send(CTRL_D)
        return self.wait(T)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run_cli(args, stdin=None, **extra_env):
    p = subprocess.run([RELUA] + args, input=stdin, capture_output=True, text=True,
                       env=env(**extra_env), cwd=TMP, timeout=T)
    return p.returncode, p.stdout, p.stderr


def write(name, text, mode=0o644):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# ---- the REPL ----

def test_expression_printed():
    with_repl(lambda r: (r.eval("6*7", r"^42$"), r.eval("1, 'a', nil", r'^1\t"a"\tnil$')))


def test_statement_prints_nothing():
    def body(r):
        r.run("x = 5")
        start = r.pos
        m = r.expect(PROMPT)
        check(r.text[start:m.start()] == "", "a statement printed %r" % r.text[start:m.start()])
    with_repl(body)


def test_multiline_for_loop():
    def body(r):
        r.line("for i = 1, 3 do")
        r.expect(PROMPT2)
        r.line("  print(i * 10)")
        r.expect(PROMPT2)
        r.line("end")
        r.expect(r"^10\n20\n30$")
        r.expect(PROMPT)
    with_repl(body)


def test_multiline_expression():
    def body(r):
        r.line("{1,")
        r.expect(PROMPT2)
        r.line("2}")
        r.expect(r"^\{1, 2\}$")
    with_repl(body)


def test_error_then_working_line():
    def body(r):
        r.run('error("boom")')
        r.expect(r"^stdin:1: boom$")
        r.expect(r"^stack traceback:$")
        r.expect(PROMPT)
        r.eval("x = = 1", r"stdin:1: unexpected symbol near '='")
        r.eval("1 + 1", r"^2$")
    with_repl(body)


def test_ctrl_c_interrupts_running_code():
    def body(r):
        for _ in range(3):  # repeatedly in one session
            r.run('print("spinning") while true do end')
            r.expect(r"^spinning$")
            r.send(CTRL_C)
            r.expect(r"interrupted!")
            r.expect(PROMPT)
        r.eval("2 + 3", r"^5$")
    with_repl(body)


def test_ctrl_c_stops_a_long_c_loop():
    def body(r):
        r.run("kept = 42")
        r.expect(PROMPT)
        for _ in range(2):  # 2^60 elements: hours of summing, unless the kernel polls Ctrl-C
            r.run('print("summing") s = nn.ones(1):expand(2^60):sum()')
            r.expect(r"^summing$")
            r.send(CTRL_C)
            r.expect(r"interrupted")
            r.expect(PROMPT)
        r.eval("kept + 1", r"^43$")
    with_repl(body)


def test_ctrl_c_at_prompt():
    def body(r):
        r.send("abc")
        r.expect("abc")
        r.send(CTRL_C)
        r.expect(PROMPT)
        r.line("for i = 1, 2 do")
        r.expect(PROMPT2)
        r.send(CTRL_C)  # drops the unfinished chunk too
        r.expect(PROMPT)
        r.send("def")
        r.expect("def")
        r.send(CTRL_C)
        r.expect(PROMPT)
        r.eval('print("after")', r"^after$")
    with_repl(body)


def test_ctrl_d_exits():
    r = Repl()
    try:
        status = r.quit()
        check(status == 0, "exit status %r" % status)
        check(r.text.endswith("relua> \n"), "no newline after Ctrl-D: %r" % r.text[-40:])
    finally:
        r.close()


def test_underscore_and_quiet():
    def body(r):
        r.run("6*7;")  # trailing ; : evaluated, not printed
        r.expect(PROMPT)
        r.eval("_ + 1", r"^43$")
    with_repl(body)


def test_show_values():
    def body(r):
        r.eval("{1, 2, 3}", r"^\{1, 2, 3\}$")
        r.eval("{b = {c = {d = 1}}, a = 1, 'x'}", r'^\{"x", a = 1, b = \{c = \{…\}\}\}$')
        r.eval('"hi\\n"', r'^"hi\\n"$')
        r.eval("t = {}; t.self = t", "")
        r.eval("t", r"^\{self = <cycle>\}$")
        r.eval("setmetatable({}, {__tostring = function() return 'custom!' end})", r"^custom!$")
    with_repl(body)


def test_complete_field():
    def body(r):
        r.send("string.fo\t")  # -> string.format(
        r.expect(r"rmat\(")
        r.send('"%d", 42)\r')
        r.expect(r'^"42"$')
    with_repl(body)


def test_complete_table_appends_dot():
    def body(r):
        r.send("strin\t")  # -> string.
        r.expect(r"g\.")
        r.send('rep("ab", 2)\r')
        r.expect(r'^"abab"$')
    with_repl(body)


def completed_line(r, typed):
    """Types `typed` + Tab, then wraps the line in print([[...]]) to see what it became."""
    r.send(typed + "\t")
    r.send(CTRL_A + "print([[" + CTRL_E + "]])\r")


def test_complete_method_through_metatable():
    def body(r):
        r.eval("x = setmetatable({}, {__index = {matmul = 1}})", "")
        completed_line(r, "x:ma")
        r.expect(r"^x:matmul$")
    with_repl(body)


def test_complete_hides_private_names():
    def body(r):
        r.eval("p = {_params = 1, __call = 2, params = 3}", "")
        completed_line(r, "p.pa")  # only the public name: completed in full
        r.expect(r"^p\.params$")
        r.expect(PROMPT)
        completed_line(r, "p._pa")  # a word starting with _ sees the private ones
        r.expect(r"^p\._params$")
    with_repl(body)


def test_complete_index_chain_and_nested():
    def body(r):
        r.eval("y = setmetatable({}, {__index = setmetatable({}, "
               "{__index = {deep_method = function() return 'deep' end}})})", "")
        r.send("y:deep\t")  # two __index hops; a function gets "("
        r.expect(r"_method\(")
        r.send(")\r")
        r.expect(r'^"deep"$')
        r.expect(PROMPT)
        r.eval("a = {b = {cde = 1}}", "")
        completed_line(r, "a.b.cd")
        r.expect(r"^a\.b\.cde$")
    with_repl(body)


def test_complete_nn_and_tensor_methods():
    def body(r):
        completed_line(r, "nn.zero")  # nn.zeros( or, with zeros_like, nn.zeros
        r.expect(r"^nn\.zeros")
        r.expect(PROMPT)
        r.eval("t = nn.ones(2)", "")
        completed_line(r, "t:nume")  # through the tensor metatable's __index closure
        r.expect(r"^t:numel\($")
    with_repl(body)


def test_complete_lists_candidates():
    def body(r):
        r.send("string.\t\t")
        r.expect(r"format +gmatch")  # listed by their last component
        r.send(CTRL_U + "1\r")
        r.expect(r"^1$")
    with_repl(body)


def test_history_file():
    hist = os.path.join(TMP, "history")
    if os.path.exists(hist):
        os.remove(hist)
    r = Repl()
    try:
        r.eval("1 + 2", r"^3$")
        r.eval("1 + 2", r"^3$")  # a repeat is not stored twice
        r.run("")
        r.expect(PROMPT)
        r.line("for i = 1, 2 do")
        r.expect(PROMPT2)
        r.line("end")
        r.expect(PROMPT)
        r.eval("40 + 2", r"^42$")
        check(r.quit() == 0, "exit status")
    finally:
        r.close()
    text = open(hist).read()
    entries = [l for l in text.split("\n") if l and not l.startswith("#")]
    check(entries == ["1 + 2", "for i = 1, 2 do", "end", "40 + 2"], "history %r" % text)
    r = Repl()  # a new session reads it back
    try:
        r.send(UP + UP)  # the multi-line chunk comes back whole
        r.expect(r"for i = 1, 2 do")
        r.send(CTRL_U + UP + UP + UP + "\r")
        r.expect(r"^3$")
        r.expect(PROMPT)
        r.quit()
    finally:
        r.close()


def test_help_defined():
    with_repl(lambda r: r.eval("type(help)", r'^"function"$'))


def test_nn_preloaded():
    with_repl(lambda r: r.eval("type(nn), require('nn') == nn", r'^"table"\ttrue$'))


def test_on_idle_hook():
    def body(r):
        # on_idle runs only while the prompt waits, so what it prints follows the prompt
        r.run("relua.on_idle = function() if not seen then seen = true print('IDLE') end end")
        r.expect(r"IDLE")
        r.send(CTRL_U)
        r.run("relua.on_idle = function() error('idle-err') end")
        r.expect(r"relua.on_idle failed and is now unset: .*idle-err")
        r.send(CTRL_U + "relua.on_idle\r")
        r.expect(r"^nil$")
    with_repl(body)


def test_quit_function():
    r = Repl()
    try:
        r.line("quit(3)")
        check(r.wait(T) == 3, "quit(3) exit status %r" % r.status)
    finally:
        r.close()


# ---- the command line ----

def test_cli_e():
    code, out, _ = run_cli(["-e", "print(6*7)"])
    check(code == 0 and out == "42\n", "relua -e: %r %r" % (code, out))


def test_cli_script_args():
    script = write("args.lua", "print(arg[0], arg[1], arg[2], arg[-1], #arg, select('#', ...), ...)\n")
    code, out, err = run_cli([script, "a", "b"])
    check(code == 0, "status %r %r" % (code, err))
    check(out == "%s\ta\tb\t%s\t2\t2\ta\tb\n" % (script, RELUA), "arg table: %r" % out)
    code, out, _ = run_cli(["-e", "x=1", script, "a"])
    check(out.startswith("%s\ta\tnil\tx=1\t1" % script), "arg with options: %r" % out)


def test_cli_l():
    code, out, _ = run_cli(["-l", "s=string", "-lmath", "-e", "print(s.rep('a', 3), math.pi > 3)"])
    check(code == 0 and out == "aaa\ttrue\n", "-l: %r %r" % (code, out))


def test_cli_v():
    code, out, _ = run_cli(["-v"])
    check(code == 0 and out.startswith("relua ") and "Lua 5.4" in out, "-v: %r" % out)


def test_cli_stdin():
    code, out, _ = run_cli(["-", "z"], stdin="print(arg[0], ...)\n")
    check(code == 0 and out == "-\tz\n", "relua -: %r" % out)
    code, out, _ = run_cli([], stdin="print(1 + 1)\n")  # no tty and no script: stdin
    check(code == 0 and out == "2\n", "relua < file: %r" % out)


def test_cli_shebang():
    script = write("hello", "#!%s\nprint('hello from ' .. arg[0])\n" % RELUA, 0o755)
    p = subprocess.run([script], capture_output=True, text=True, env=env(), timeout=T)
    check(p.returncode == 0 and p.stdout == "hello from %s\n" % script,
          "shebang: %r %r" % (p.stdout, p.stderr))


def test_cli_failing_script():
    script = write("fail.lua", "local function f() error('boom') end\nf()\n")
    code, out, err = run_cli([script])
    check(code != 0, "exit status 0")
    check("fail.lua:1: boom" in err and "stack traceback:" in err, "stderr: %r" % err)


def test_cli_syntax_error():
    script = write("bad.lua", "x = = 1\n")
    code, _, err = run_cli([script])
    check(code != 0 and "bad.lua:1:" in err, "status %r stderr %r" % (code, err))


def test_cli_bad_option():
    code, _, err = run_cli(["-x"])
    check(code != 0 and "unrecognized option '-x'" in err and "usage:" in err, err)
    code, _, err = run_cli(["-e"])
    check(code != 0 and "'-e' needs argument" in err, err)


def test_cli_lua_init():
    code, out, _ = run_cli(["-e", "print(x)"], LUA_INIT="x = 5")
    check(out == "5\n", "LUA_INIT: %r" % out)
    code, out, _ = run_cli(["-e", "print(x)"], LUA_INIT="x = 5", LUA_INIT_5_4="x = 6")
    check(out == "6\n", "LUA_INIT_5_4: %r" % out)
    code, out, _ = run_cli(["-E", "-e", "print(x)"], LUA_INIT="x = 5")
    check(out == "nil\n", "-E: %r" % out)
    init = write("init.lua", "y = 7\n")
    code, out, _ = run_cli(["-e", "print(y)"], LUA_INIT="@" + init)
    check(out == "7\n", "LUA_INIT=@file: %r" % out)


def test_cli_i_after_script():
    script = write("seven.lua", "x = 7\n")
    r = Repl(["-i", script])
    try:
        r.eval("x * 6", r"^42$")
        check(r.quit() == 0, "exit status")
    finally:
        r.close()


def test_cli_ctrl_c_stops_script():
    r = Session([RELUA, "-e", "print('spinning') while true do end"], env=env(), cwd=TMP)
    try:
        r.expect(r"^spinning$", T)
        r.send(CTRL_C)
        r.expect(r"interrupted!", T)
        check(r.wait(T) != 0, "exit status 0")
    finally:
        r.close()


# ---- runner ----

def with_repl(body):
    r = Repl()
    try:
        body(r)
        r.quit()
    finally:
        r.close()


def main():
    global RELUA, TMP
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    RELUA = os.path.abspath(build if os.path.isabs(build) or os.path.isdir(build)
                            else os.path.join(root, build))
    RELUA = os.path.join(RELUA, "relua")
    if not os.access(RELUA, os.X_OK):
        print("not ok repl: no executable %s" % RELUA)
        print("# repl: 0 passed, 1 failed")
        return 1
    tests = [(n[5:], f) for n, f in globals().items() if n.startswith("test_")]
    passed = failed = 0
    TMP = tempfile.mkdtemp(prefix="relua-repl-")
    try:
        for name, fn in tests:
            try:
                fn()
                passed += 1
                print("ok %s" % name, flush=True)
            except Exception as e:
                failed += 1
                print("not ok %s" % name, flush=True)
                sys.stderr.write("  %s: %s\n" % (type(e).__name__, e))
                if not isinstance(e, AssertionError):
                    sys.stderr.write("".join("  " + l for l in traceback.format_exc().splitlines(True)[-4:]))
                sys.stderr.flush()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("# repl: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
