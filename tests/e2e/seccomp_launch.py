#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""seccomp_launch.py PROFILE COMMAND [ARG...]: load the OCI seccomp profile
PROFILE (the JSON of podman --security-opt seccomp=FILE, as
'rawbroker-policy seccomp --format oci' writes it) into this process, then
exec COMMAND under it.  A stand-in for what a container runtime does, for
the tests: it reads the fields as runc does and refuses any it does not
understand rather than load a weaker filter than the profile says.

Needs Debian's python3-seccomp.  Loading a filter needs NO_NEW_PRIVS or
CAP_SYS_ADMIN; libseccomp sets NO_NEW_PRIVS itself (its default).
"""
import errno
import json
import os
import sys

import seccomp

ACTIONS = {
    "SCMP_ACT_ALLOW": lambda ret: seccomp.ALLOW,
    "SCMP_ACT_ERRNO": lambda ret: seccomp.ERRNO(errno.EPERM if ret is None else ret),
    "SCMP_ACT_KILL": lambda ret: seccomp.KILL,
    "SCMP_ACT_KILL_THREAD": lambda ret: seccomp.KILL,
    "SCMP_ACT_KILL_PROCESS": lambda ret: seccomp.KILL_PROCESS,
    "SCMP_ACT_TRAP": lambda ret: seccomp.TRAP,
    "SCMP_ACT_LOG": lambda ret: seccomp.LOG,
}

OPS = {
    "SCMP_CMP_NE": seccomp.NE,
    "SCMP_CMP_LT": seccomp.LT,
    "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_EQ": seccomp.EQ,
    "SCMP_CMP_GE": seccomp.GE,
    "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}

PROFILE_KEYS = {"defaultAction", "defaultErrnoRet", "architectures", "syscalls"}
SYSCALL_KEYS = {"names", "action", "errnoRet", "args", "comment"}
ARG_KEYS = {"index", "value", "valueTwo", "op"}


def fail(msg):
    print(f"seccomp_launch: {msg}", file=sys.stderr)
    sys.exit(127)


def check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        fail(f"{where}: expected an object")
    unknown = set(obj) - allowed
    if unknown:
        fail(f"{where}: fields not understood: {', '.join(sorted(unknown))}")


def action(name, ret, where):
    if name not in ACTIONS:
        fail(f"{where}: unknown action {name!r}")
    return ACTIONS[name](ret)


def arch(name):
    token = name[len("SCMP_ARCH_"):] if name.startswith("SCMP_ARCH_") else None
    if not token or not hasattr(seccomp.Arch, token):
        fail(f"unknown architecture {name!r}")
    return getattr(seccomp.Arch, token)


def build(profile):
    check_keys(profile, PROFILE_KEYS, "profile")
    f = seccomp.SyscallFilter(action(profile.get("defaultAction"),
                                     profile.get("defaultErrnoRet"), "defaultAction"))
    for name in profile.get("architectures", []):
        a = arch(name)
        if not f.exist_arch(a):
            f.add_arch(a)
    for i, sc in enumerate(profile.get("syscalls", [])):
        where = f"syscalls[{i}]"
        check_keys(sc, SYSCALL_KEYS, where)
        act = action(sc.get("action"), sc.get("errnoRet"), where)
        args = []
        for j, a in enumerate(sc.get("args") or []):
            check_keys(a, ARG_KEYS, f"{where}.args[{j}]")
            if a.get("op") not in OPS:
                fail(f"{where}.args[{j}]: unknown op {a.get('op')!r}")
            # as runc: for MASKED_EQ, value is the mask, valueTwo the value
            args.append(seccomp.Arg(a["index"], OPS[a["op"]], a.get("value", 0),
                                    a.get("valueTwo", 0)))
        if not sc.get("names"):
            fail(f"{where}: no names")
        for name in sc["names"]:
            f.add_rule(act, name, *args)
    return f


def main():
    if len(sys.argv) < 3:
        print("usage: seccomp_launch.py PROFILE COMMAND [ARG...]", file=sys.stderr)
        sys.exit(2)
    try:
        with open(sys.argv[1], encoding="utf-8") as fh:
            profile = json.load(fh)
    except (OSError, ValueError) as e:
        fail(f"{sys.argv[1]}: {e}")
    filt = build(profile)
    filt.load()
    cmd = sys.argv[2:]
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        fail(f"{cmd[0]}: {e.strerror}")


if __name__ == "__main__":
    main()
