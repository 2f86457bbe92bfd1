#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""seccomp_launch.py PROFILE COMMAND [ARG...]: load the OCI seccomp profile
PROFILE (the JSON of podman --security-opt seccomp=FILE, as
'rawbroker-policy seccomp --format oci' writes it) into this process, then
exec COMMAND under it.  A stand-in for what a container runtime does, for
the tests: it reads the fields as runc does and refuses any it does not
understand rather than load a weaker filter than the profile says.
listenerPath is not used: a call the profile sends to the seccomp agent
(SCMP_ACT_NOTIFY) fails with ENOSYS here, as the kernel answers when the
listener is gone.

It also reads what podman resolves itself in a profile of the moby format,
as containers-common's seccomp.json and 'rawbroker-policy seccomp --base'
merged with it are: archMap (the native architecture and its subarches),
defaultErrnoRet, errno names, and an entry's includes and excludes (arches,
minKernel, and caps: the process is taken to hold no capability at all, as
the tests' clients do not).  As runc and podman do, it leaves out a name
libseccomp does not know and a rule that repeats the default action.

Needs Debian's python3-seccomp.  Loading a filter needs NO_NEW_PRIVS or
CAP_SYS_ADMIN; libseccomp sets NO_NEW_PRIVS itself (its default).
"""
import errno
import json
import os
import platform
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
    "SCMP_ACT_NOTIFY": lambda ret: seccomp.NOTIFY,
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

PROFILE_KEYS = {"defaultAction", "defaultErrnoRet", "defaultErrno", "architectures",
                "archMap", "syscalls", "listenerPath", "listenerMetadata"}
SYSCALL_KEYS = {"names", "name", "action", "errnoRet", "errno", "args", "comment",
                "includes", "excludes"}
FILTER_KEYS = {"caps", "arches", "minKernel"}
ARG_KEYS = {"index", "value", "valueTwo", "op"}

# platform.machine() as the Go names includes/excludes "arches" use
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm",
          "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


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


def errno_ret(obj, num_key, name_key, where):
    """errnoRet, else the errno name (podman reads both), else None."""
    if obj.get(num_key) is not None:
        return obj[num_key]
    name = obj.get(name_key)
    if name is None:
        return None
    if not hasattr(errno, name):
        fail(f"{where}: unknown errno {name!r}")
    return getattr(errno, name)


def kernel_at_least(version):
    have = [int(x) for x in platform.release().split("-")[0].split(".")[:2]]
    want = [int(x) for x in version.split(".")[:2]]
    return have >= want


def applies(sc, where):
    """Whether the entry is for this process: no capabilities, this arch."""
    machine = GOARCH.get(platform.machine())
    for key in ("includes", "excludes"):
        check_keys(sc.get(key) or {}, FILTER_KEYS, f"{where}.{key}")
    inc, exc = sc.get("includes") or {}, sc.get("excludes") or {}
    if inc.get("caps"):
        return False  # needs a capability we do not have
    if inc.get("arches") and machine not in inc["arches"]:
        return False
    if inc.get("minKernel") and not kernel_at_least(inc["minKernel"]):
        return False
    if exc.get("arches") and machine in exc["arches"]:
        return False
    if exc.get("minKernel") and kernel_at_least(exc["minKernel"]):
        return False
    return True  # excludes.caps: we hold none of them


def architectures(profile):
    names = list(profile.get("architectures") or [])
    native = "SCMP_ARCH_" + {"amd64": "X86_64", "arm64": "AARCH64"}.get(
        GOARCH.get(platform.machine(), ""), platform.machine().upper())
    for m in profile.get("archMap") or []:
        if m.get("architecture") == native:
            names += [m["architecture"]] + list(m.get("subArchitectures") or [])
    return names


def build(profile):
    check_keys(profile, PROFILE_KEYS, "profile")
    default = action(profile.get("defaultAction"),
                     errno_ret(profile, "defaultErrnoRet", "defaultErrno", "profile"),
                     "defaultAction")
    f = seccomp.SyscallFilter(default)
    for name in architectures(profile):
        a = arch(name)
        if not f.exist_arch(a):
            f.add_arch(a)
    for i, sc in enumerate(profile.get("syscalls", [])):
        where = f"syscalls[{i}]"
        check_keys(sc, SYSCALL_KEYS, where)
        act = action(sc.get("action"), errno_ret(sc, "errnoRet", "errno", where), where)
        if not applies(sc, where) or act == default:
            continue  # runc skips a rule that repeats the default, too
        args = []
        for j, a in enumerate(sc.get("args") or []):
            check_keys(a, ARG_KEYS, f"{where}.args[{j}]")
            if a.get("op") not in OPS:
                fail(f"{where}.args[{j}]: unknown op {a.get('op')!r}")
            # as runc: for MASKED_EQ, value is the mask, valueTwo the value
            args.append(seccomp.Arg(a["index"], OPS[a["op"]], a.get("value", 0),
                                    a.get("valueTwo", 0)))
        names = list(sc.get("names") or []) + ([sc["name"]] if sc.get("name") else [])
        if not names:
            fail(f"{where}: no names")
        for name in names:
            try:
                seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
            except ValueError:
                continue  # unknown to this libseccomp: runc skips it too
            try:
                f.add_rule(act, name, *args)
            except RuntimeError as e:
                fail(f"{where}: {name}: {e}")
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
    # SCMP_ACT_NOTIFY (rawbroker-policy seccomp --listener): no agent here.
    # With the listener closed, a notified call fails with ENOSYS, which
    # tells a test that the filter sent it to the agent.
    if any(sc.get("action") == "SCMP_ACT_NOTIFY" for sc in profile.get("syscalls", [])):
        os.close(filt.get_notify_fd())
    cmd = sys.argv[2:]
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        fail(f"{cmd[0]}: {e.strerror}")


if __name__ == "__main__":
    main()
