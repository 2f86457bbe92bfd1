#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tty_tostop.py RAWBROKERD ARGS... -- can the supervised command stop the
broker through their shared terminal?

On a fresh pseudo terminal, a stand-in for an interactive shell runs
'RAWBROKERD ARGS... -- /usr/bin/python3 THIS --command' as a foreground
job (a process group of its own), with the broker's log on the terminal.
The supervised command (running as --run-as, confined) does what a shell
inside it would do: it takes the terminal's foreground for a process group
of its own, and it sets TOSTOP.  The broker's job is then in the
background, and a background process that writes to the terminal gets
SIGTTOU, which stops it unless it ignores or blocks the signal.  The
command then makes the broker write a line: a malformed request on the
broker's socket ('protocol error'), logged by the event loop.  Then it asks
for a raw socket.  Exit 0 when the socket came and the broker never
stopped; the lines seen and the broker's state are printed.
"""
import ctypes
import os
import pty
import select
import signal
import socket
import sys
import termios
import time


def command():
    """The supervised command: foreground, TOSTOP, a log line, a socket."""
    # The broker ignores these two; its command must get the defaults.
    for sig in (signal.SIGTTOU, signal.SIGTTIN):
        if signal.getsignal(sig) != signal.SIG_DFL:
            print(f"command: {sig.name} is not at its default action", flush=True)
            return 1
    print("command: SIGTTOU and SIGTTIN at their defaults", flush=True)
    tty = os.open("/dev/tty", os.O_RDWR)
    # As a shell's job control does: a process group of its own made the
    # foreground one (with SIGTTOU held off, or tcsetpgrp stops us).
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTTOU])
    os.setpgid(0, 0)
    os.tcsetpgrp(tty, os.getpgrp())
    attrs = termios.tcgetattr(tty)
    attrs[3] |= termios.TOSTOP
    termios.tcsetattr(tty, termios.TCSANOW, attrs)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTTOU])
    print("command: foreground, TOSTOP set", flush=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as c:
        c.connect(os.environ["RAWBROKER_SOCKET"])
        c.send(b"\xff" * 8)  # the broker logs a protocol error
        c.settimeout(2)
        try:
            c.recv(4096)
        except OSError:
            pass
    print("command: malformed request sent", flush=True)
    time.sleep(0.3)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except OSError as e:
        print(f"command: raw socket: {e}", flush=True)
        return 1
    print("command: raw socket: ok", flush=True)
    return 0


def shell(broker):
    """The session leader: run the broker as a foreground job, wait."""
    tty = os.open("/dev/tty", os.O_RDWR)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # the shell's own writes
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(tty, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)  # the job's: default
        os.execv(broker[0], broker + ["--", "/usr/bin/python3", os.path.abspath(__file__),
                                      "--command"])
    print(f"shell: broker pid {pid}", flush=True)
    _, status = os.waitpid(pid, 0)
    print(f"shell: broker exited {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


def reap():
    """Wait for every child and orphan we hold, for at most 5 s."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def main(argv):
    if argv[1:2] == ["--command"]:
        return command()
    # Orphans of the session come to us (PR_SET_CHILD_SUBREAPER), so that
    # every process this test started is reaped before it returns.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    session, master = pty.fork()  # a new session, the pty its terminal
    if session == 0:
        os._exit(shell(argv[1:]))
    out, broker, stopped, code = b"", None, False, None
    deadline = time.monotonic() + 20
    while code is None and not stopped and time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                out += os.read(master, 4096)
            except OSError:  # EIO: every holder of the terminal is gone
                pass
        text = out.decode(errors="replace")
        if broker is None and "shell: broker pid " in text:
            broker = int(text.split("shell: broker pid ", 1)[1].split()[0])
        stopped = broker is not None and state(broker) == "T"
        done, status = os.waitpid(session, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
    text = out.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith(("command:", "shell:")) or "protocol error" in line:
            print(line.strip())
    if code is None:
        print("broker: stopped (state T)" if stopped else "broker: still running after 20 s")
        # Ours to end: the broker's process group (front, maker, relay),
        # then the shell; the command's ends with the terminal.
        if broker is not None:
            os.killpg(broker, signal.SIGKILL)
        os.kill(session, signal.SIGKILL)
        reap()
        return 1
    reap()
    print("broker: never stopped")
    # The protocol error's line must have reached the terminal, or nothing
    # was tested.
    ok = all(s in text for s in ("shell: broker exited 0", "raw socket: ok", "protocol error"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
