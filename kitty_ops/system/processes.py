"""What kitty-ops asks about processes: who a process is (host, boot, pid
namespace, pid, start time), whether it still runs, and its parent chain.

Standard library only (the orphans hook imports it). On Linux everything is
read from /proc; where there is no /proc, only what `os` offers is known: a
pid that exists, never its start time.
"""
from __future__ import annotations

import os

# Interpreters that run a script or a `$(...)` and then exit: never an Op's owner.
SHELLS = frozenset({
    "sh", "bash", "dash", "ash", "zsh", "fish", "ksh", "ksh93", "mksh", "pdksh", "oksh",
    "csh", "tcsh", "yash", "posh", "busybox", "nu", "elvish", "pwsh", "rbash",
})
_PROC = "/proc"
_cache: dict[str, str | None] = {}


def host_name() -> str:
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # Windows

    return socket.gethostname()


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return None


def boot_id() -> str | None:
    """This boot's id (Linux), None where the system has none."""
    if "boot_id" not in _cache:
        text = _read_text("/proc/sys/kernel/random/boot_id")
        _cache["boot_id"] = text.strip() if text else None
    return _cache["boot_id"]


def pid_namespace() -> str | None:
    """The pid namespace this process sees (`pid:[4026531836]`): pids from
    another one (another container on the same kernel) mean nothing here."""
    if "pid_ns" not in _cache:
        try:
            _cache["pid_ns"] = os.readlink(f"{_PROC}/self/ns/pid")
        except OSError:
            _cache["pid_ns"] = None
    return _cache["pid_ns"]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat from field 3 (state) on, or None."""
    text = _read_text(f"{_PROC}/{pid}/stat")
    if not text or ")" not in text:
        return None
    return text[text.rindex(")") + 1 :].split()  # the name may hold spaces and parentheses


def start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def has_proc() -> bool:
    return os.path.isdir(f"{_PROC}/self")


def exists(pid: int) -> bool:
    """A process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    if has_proc():
        fields = _stat_fields(pid)
        return fields is not None and fields[0] not in ("Z", "X", "x")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists, owned by someone else
    return True


def parent_pid(pid: int) -> int | None:
    if pid == os.getpid():
        return os.getppid()
    fields = _stat_fields(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def program_names(pid: int) -> set[str]:
    """What `pid` runs: its executable's name, argv[0] (a login shell's `-bash`
    as `bash`) and its command name (a `#!` script's file name)."""
    names = set()
    try:
        names.add(os.path.basename(os.readlink(f"{_PROC}/{pid}/exe")))
    except OSError:
        pass  # another user's process, or no /proc
    cmdline = _read_text(f"{_PROC}/{pid}/cmdline")
    if cmdline:
        names.add(os.path.basename(cmdline.split("\0", 1)[0]).lstrip("-"))
    comm = _read_text(f"{_PROC}/{pid}/comm")
    if comm:
        names.add(comm.strip())
    return names


def is_shell(pid: int) -> bool:
    return bool(program_names(pid) & SHELLS)


def nearest_non_shell_ancestor(pid: int | None = None) -> int | None:
    """The nearest ancestor of `pid` (default: this process) that is not a shell.

    `op=$(kitty-ops start ...)` runs kitty-ops from a subshell of a script,
    and both exit long before the Op completes; the process that started the
    script is the one that lives as long as the Op. None when the chain
    reaches init (pid 1) or cannot be read. Without /proc: the parent.
    """
    pid = os.getpid() if pid is None else pid
    if not has_proc():
        parent = parent_pid(pid)
        return parent if parent and parent > 1 else None
    seen = set()
    while True:
        pid = parent_pid(pid)
        if pid is None or pid <= 1 or pid in seen:
            return None
        seen.add(pid)
        if not is_shell(pid):
            return pid
