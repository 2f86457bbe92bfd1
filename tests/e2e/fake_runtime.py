#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fake_runtime.py AGENT_SOCKET CASE: speak the OCI seccomp agent protocol
to rawbrokerd --seccomp-agent as runc does (connect, one sendmsg of the
container state JSON with the listener as SCM_RIGHTS, close), or break it
on purpose.  For tests/e2e/seccomp_agent.sh; prints one line saying what
happened, exit status 0 when it went as the case expects.

Cases:
  good       a real listener (this process loads a filter that notifies
             socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)), then that call: it
             must return a socket the broker injected
  refused    the same, for a uid the policy does not serve: EPERM
  option     a real listener for setsockopt(IPPROTO_IPV6, IPV6_HOPOPTS), then
             that call (a padding header) on an IPv6 UDP socket and on an
             IPv4 one: an agent's listener has no option proxy, so the
             kernel answers, as it would (EPERM; ENOPROTOOPT for IPv4)
  pipe       a pipe instead of a listener
  two        the listener and a pipe
  none       no descriptor at all
  badjson    a listener with a state that is not JSON
  badfds     a listener with "fds": ["other"]
  noid       a listener with no state.id
  big        a listener with 65 KiB of state
  silent     connect and send nothing for 4 s (the agent gives 0.2 s)
  many N     N containers at once: N processes, each with its own filter,
             hand their listeners over one after the other (50 ms apart)
             and stay alive for 1.5 s more
  hold N     hold N connections open without sending, for 0.1 s (less than
             the agent's deadline); print how many the agent closed by then (it reads at most 4 per uid)
Needs Debian's python3-seccomp.
"""
import array
import errno
import json
import os
import socket
import sys
import time

import seccomp


def state(cid="fake-" + str(os.getpid())):
    return {"ociVersion": "1.0.2", "fds": ["seccompFd"], "pid": os.getpid(),
            "metadata": "fake-runtime",
            "state": {"ociVersion": "1.0.2", "id": cid, "status": "creating",
                      "pid": os.getpid(), "bundle": "/nonexistent", "annotations": {}}}


def send(path, payload, fds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    s.sendmsg([payload], anc)
    s.close()


def listener():
    """A filter on this process that notifies raw ICMP sockets; its listener."""
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.NOTIFY, "socket", seccomp.Arg(0, seccomp.EQ, socket.AF_INET),
               seccomp.Arg(1, seccomp.MASKED_EQ, 0xf, socket.SOCK_RAW),
               seccomp.Arg(2, seccomp.EQ, socket.IPPROTO_ICMP))
    f.load()
    return f.get_notify_fd()


IPV6_HOPOPTS = getattr(socket, "IPV6_HOPOPTS", 54)


def option_listener():
    """A filter on this process that notifies setsockopt(IPV6_HOPOPTS)."""
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.NOTIFY, "setsockopt", seccomp.Arg(1, seccomp.EQ, socket.IPPROTO_IPV6),
               seccomp.Arg(2, seccomp.EQ, IPV6_HOPOPTS))
    f.load()
    return f.get_notify_fd()


def main():
    path, case = sys.argv[1], sys.argv[2]
    payload = json.dumps(state()).encode()
    if case in ("good", "refused"):
        lfd = listener()
        send(path, payload, [lfd])
        os.close(lfd)  # the broker has its own now
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        except OSError as e:
            print("socket: %s" % errno.errorcode.get(e.errno, e.errno))
            return 0 if case == "refused" and e.errno == errno.EPERM else 1
        print("socket: granted, fd %d, %s" % (s.fileno(), s.family.name))
        return 0 if case == "good" else 1
    if case == "option":
        socks = [socket.socket(socket.AF_INET6, socket.SOCK_DGRAM),
                 socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]
        lfd = option_listener()
        send(path, payload, [lfd])
        os.close(lfd)
        for s in socks:
            try:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
                got = "0"
            except OSError as e:
                got = errno.errorcode.get(e.errno, str(e.errno))
            print("setsockopt %s: %s" % (s.family.name, got))
        return 0
    if case == "pipe":
        r, w = os.pipe()
        send(path, payload, [r])
    elif case == "two":
        r, w = os.pipe()
        send(path, payload, [listener(), r])
    elif case == "none":
        send(path, payload, [])
    elif case == "badjson":
        send(path, b"{not json", [listener()])
    elif case == "badfds":
        st = state()
        st["fds"] = ["other"]
        send(path, json.dumps(st).encode(), [listener()])
    elif case == "noid":
        st = state()
        del st["state"]["id"]
        send(path, json.dumps(st).encode(), [listener()])
    elif case == "big":
        st = state()
        st["state"]["annotations"]["x"] = "y" * (65 * 1024)
        send(path, json.dumps(st).encode(), [listener()])
    elif case == "silent":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(4)
        t = time.monotonic()
        try:
            got = s.recv(1)  # b"" when the agent closes
        except socket.timeout:
            got = None
        print("silent: %s after %.2f s" % ("closed" if got == b"" else "still open",
                                             time.monotonic() - t))
        return 0 if got == b"" else 1
    elif case == "many":
        r, w = os.pipe()
        kids = []
        for i in range(int(sys.argv[3])):
            pid = os.fork()
            if pid == 0:
                os.close(w)
                lfd = listener()
                send(path, json.dumps(state("fake-many-%d" % i)).encode(), [lfd])
                os.close(lfd)
                os.read(r, 1)  # until the parent closes its end
                os._exit(0)
            kids.append(pid)
            time.sleep(0.05)
        time.sleep(1.5)
        os.close(w)
        for pid in kids:
            os.waitpid(pid, 0)
        print("many: %d sent" % len(kids))
        return 0
    elif case == "hold":
        conns = []
        for _ in range(int(sys.argv[3])):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.setblocking(False)
            conns.append(s)
        time.sleep(0.1)
        closed = 0
        for s in conns:
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
        print("hold: %d of %d closed by the agent" % (closed, len(conns)))
        return 0
    else:
        print("unknown case " + case, file=sys.stderr)
        return 2
    print(case + ": sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
