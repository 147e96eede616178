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
PROC = "/proc"
_cache: dict[str, str | None] = {}


def host_name() -> str:
    if "host" not in _cache:
        if hasattr(os, "uname"):
            _cache["host"] = os.uname().nodename
        else:
            import socket  # Windows

            _cache["host"] = socket.gethostname()
    return _cache["host"] or ""


def read_small(path: str) -> bytes | None:
    """A small file's content, None when it cannot be read (os-level calls: the
    process table is read whole on every Op commit, a few files per process)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_once(path: str, size: int = 4096) -> bytes | None:
    """The first `size` bytes of a file, in one read (None when it cannot be read):
    for /proc files that are a few bytes long (`comm`, `stat`), read for each
    process on every Op commit."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_text(path: str) -> str | None:
    data = read_small(path)
    return None if data is None else data.decode(errors="replace")


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
            _cache["pid_ns"] = os.readlink(f"{PROC}/self/ns/pid")
        except OSError:
            _cache["pid_ns"] = None
    return _cache["pid_ns"]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat from field 3 (state) on, or None. One read:
    the file is a few hundred bytes (the orphans hook reads one per agent)."""
    data = read_once(f"{PROC}/{pid}/stat")
    if data is None:
        return None
    end = data.rfind(b")")  # the name may hold spaces and parentheses
    return data[end + 1 :].decode(errors="replace").split() if end >= 0 else None


def start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def has_proc() -> bool:
    key = f"has_proc {PROC}"
    if key not in _cache:
        _cache[key] = "yes" if os.path.isdir(f"{PROC}/self") else None
    return _cache[key] is not None


def is_alive(pid: int) -> bool:
    """A process `pid` runs: a zombie (dead, not yet reaped by its parent) does not."""
    return liveness(pid)[0]


def liveness(pid: int) -> tuple[bool, int | None]:
    """(whether `pid` runs, when it started) from one read of /proc/<pid>/stat
    (a zombie does not run); without /proc, whether the pid exists, and no start time."""
    if pid <= 0:
        return False, None  # os.kill(0, ...) would ask about this process group
    if not has_proc():
        return _exists(pid), None
    fields = _stat_fields(pid)
    if fields is None:
        return False, None
    return fields[0] not in ("Z", "X", "x"), int(fields[19]) if len(fields) > 19 else None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    except OSError:
        return False
    return True


def parent_pid(pid: int) -> int | None:
    """The parent of `pid` (from /proc, else `ps`), None when unknown."""
    if pid == os.getpid():
        return os.getppid()
    if has_proc():
        fields = _stat_fields(pid)
        return int(fields[1]) if fields and len(fields) > 1 else None
    out = _ps(pid, "ppid=")
    return int(out) if out.isdigit() else None


def ancestors(pid: int | None = None, depth: int = 32) -> list[int]:
    """The pids above `pid` (default: this process), nearest first."""
    chain: list[int] = []
    current = os.getpid() if pid is None else pid
    while len(chain) < depth:
        parent = parent_pid(current)
        if not parent or parent == current or parent in chain:
            break
        chain.append(parent)
        current = parent
    return chain


def process_name(pid: int) -> str | None:
    """The command name of `pid` (from /proc, else `ps`)."""
    name = read_small(f"{PROC}/{pid}/comm")
    if name is not None:
        return name.decode(errors="replace").strip()
    return os.path.basename(_ps(pid, "comm=")) or None


def _ps(pid: int, field: str) -> str:
    import subprocess

    try:
        out = subprocess.run(["ps", "-o", field, "-p", str(pid)], capture_output=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.decode(errors="replace").strip()


def program_names(pid: int) -> set[str]:
    """What `pid` runs: its executable's name, argv[0] (a login shell's `-bash`
    as `bash`) and its command name (a `#!` script's file name)."""
    names = set()
    try:
        names.add(os.path.basename(os.readlink(f"{PROC}/{pid}/exe")))
    except OSError:
        pass  # another user's process, or no /proc
    cmdline = _read_text(f"{PROC}/{pid}/cmdline")
    if cmdline:
        names.add(os.path.basename(cmdline.split("\0", 1)[0]).lstrip("-"))
    comm = _read_text(f"{PROC}/{pid}/comm")
    if comm:
        names.add(comm.strip())
    return names


def is_shell(pid: int) -> bool:
    return bool(program_names(pid) & SHELLS)


def is_interactive_shell(pid: int) -> bool:
    """A shell a person types into: a login shell (argv[0] `-bash`), one run
    with `-i`, or one with no script and no `-c` whose stdin is a terminal
    (`bash` in a terminal, and the `$(...)` subshells it forks). `bash
    script.sh` is not, whatever its stdin."""
    cmdline = read_small(f"{PROC}/{pid}/cmdline")
    if not cmdline:
        return False
    argv = cmdline.decode(errors="replace").rstrip("\0").split("\0")
    if argv[0].startswith("-"):
        return True
    for arg in argv[1:]:
        if arg == "--interactive":
            return True
        if arg == "--" or not arg.startswith(("-", "+")):
            return False  # a script follows, or this is one
        if not arg.startswith("--") and "i" in arg[1:]:
            return True
        if not arg.startswith("--") and "c" in arg[1:]:
            return False  # `-c COMMAND`
    try:
        terminal = os.readlink(f"{PROC}/{pid}/fd/0")
    except OSError:
        return False
    return terminal.startswith(("/dev/pts/", "/dev/tty"))


def nearest_non_shell_ancestor(pid: int | None = None, interactive: list[int] | None = None) -> int | None:
    """The nearest ancestor of `pid` (default: this process) that is not a shell.

    `op=$(kitty-ops start ...)` runs kitty-ops from a subshell of a script,
    and both exit long before the Op completes; the process that started the
    script is the one that lives as long as the Op. None when the chain
    reaches init (pid 1) or cannot be read. Without /proc: the parent.

    `interactive`: when given, the chain stops at the first interactive shell
    (`is_interactive_shell`), appended to it, and None is returned: a terminal
    (or the sshd or tmux above it) lives as long as the person's session,
    never as long as one Op.
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
        if interactive is not None and is_interactive_shell(pid):
            interactive.append(pid)
            return None
