"""A program driven through a pseudo-terminal, as a user at a keyboard would drive it.

Output is read as it comes and matched against regular expressions with a timeout, never
after a fixed sleep. Terminal escape sequences and carriage returns are removed before
matching, so patterns are written against plain text.
"""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

ANSI = re.compile(rb"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9]|[=>])")


class Timeout(Exception):
    pass


class Session:
    def __init__(self, argv, env=None, cwd=None, rows=40, cols=200):
        self.raw = b""
        self.text = ""  # cleaned output
        self.pos = 0  # matches start here: what was matched before is consumed
        pid, fd = pty.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execve(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.status = None

    def _read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            raise EOFError
        self.raw += data
        self.text = ANSI.sub(b"", self.raw).replace(b"\r", b"").decode("utf-8", "replace")
        return True

    def expect(self, pattern, timeout=5.0):
        """Waits until pattern matches the output after the previous match; returns the match."""
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no %r in output %r" % (pattern, self.text[self.pos:][-800:]))
            try:
                self._read(left)
            except EOFError:
                raise Timeout("end of output before %r in %r" % (pattern, self.text[self.pos:][-800:]))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.fd, data)

    def line(self, text):
        self.send(text + "\r")

    def wait(self, timeout=5.0):
        """Reads the remaining output and waits for the exit; returns the exit status."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not self._read(min(0.05, max(deadline - time.monotonic(), 0))):
                    pass
            except EOFError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while True:  # what is left in the terminal
                    try:
                        if not self._read(0):
                            break
                    except EOFError:
                        break
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            if time.monotonic() > deadline:
                raise Timeout("no exit; output %r" % self.text[-800:])

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass
