"""Op owners: the process that runs an open Op, kept local and never committed.

`start` records who owns the Op in one small JSON file per Op, in the git
common directory (`<common-dir>/kitty-ops/owners/<op_id>.json`, shared by all
worktrees of a clone) or, outside git, in `kitty-ops/.owners/`. It holds the
host name, boot id, pid namespace, pid and the process's start time, and is
removed when the Op completes. An open Op is then:

- `running`: same host, boot and pid namespace, and its pid runs with the same start time;
- `dead`: same host and boot, and its pid is gone, or now belongs to another
  process (another start time: the pid was reused);
- `unknown`: no owner recorded, another host, boot or pid namespace.

Standard library only: the orphans hook imports it.
"""
from __future__ import annotations

import os
import time

from kitty_ops.errors import UnsafePath
from kitty_ops.format import jsontext
from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.format.ulid import require_ulid
from kitty_ops.gitio import git
from kitty_ops.system import files, processes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from kitty_ops.store.untracked import UntrackedCache

RUNNING, DEAD, UNKNOWN = "running", "dead", "unknown"
OWNERS_SUBDIR = "kitty-ops/owners"  # under the git common directory
LOCAL_OWNERS_DIR = f"{EVENTS_DIR}/.owners"  # under the work root, outside git
_SUFFIX = ".json"


def owners_dir(repo_root: str | os.PathLike[str]) -> str:
    """Where the owner files of this repository live."""
    repo = git.find_repo(repo_root)
    if repo is not None:
        return os.path.join(repo.common_path, OWNERS_SUBDIR)
    return os.path.join(repo_root, LOCAL_OWNERS_DIR)


def owners_dir_here() -> str | None:
    """The owners directory of the repository in the current directory, asked of
    git without importing subprocess (for the hook); None outside git."""
    try:
        common = git.finish(git.start(["rev-parse", "--git-common-dir"])).decode(errors="surrogateescape").strip()
    except git.GitError:
        return None
    return os.path.join(os.getcwd(), common, OWNERS_SUBDIR)


def _path(directory: str, op_id: str) -> str:
    return os.path.join(directory, require_ulid(op_id) + _SUFFIX)


def identity(pid: int) -> dict[str, Any]:
    """What identifies process `pid` across pid reuse, as an owner file holds it."""
    return {
        "host": processes.host_name(),
        "boot_id": processes.boot_id(),
        "pid_namespace": processes.pid_namespace(),
        "pid": pid,
        "start_time": processes.start_time(pid),
    }


def record_owner(repo_root: str | os.PathLike[str], op_id: str, pid: int) -> dict[str, Any]:
    """Write the owner file of `op_id`: process `pid` owns it. The owner as written."""
    directory = owners_dir(repo_root)
    if os.path.islink(directory):  # outside git it lies in the (untrusted) work tree
        raise UnsafePath(f"{LOCAL_OWNERS_DIR} is a symbolic link; kitty-ops does not write through links")
    owner = {"invocation_id": op_id, **identity(pid)}
    os.makedirs(directory, exist_ok=True)
    files.write_atomically(_path(directory, op_id), jsontext.dumps(owner, sort_keys=True).encode() + b"\n", 0o600)
    return owner


def forget_owner(repo_root: str | os.PathLike[str], op_id: str) -> None:
    """Remove the owner file of `op_id` (the Op completed); nothing if there is
    none. Never fails: a leftover owner file of a completed Op is never read."""
    try:
        os.unlink(_path(owners_dir(repo_root), op_id))
    except (OSError, ValueError):
        pass


def read_owner(directory: str | None, op_id: str) -> dict[str, Any] | None:
    """The owner recorded for `op_id`, or None (none recorded, or unreadable)."""
    if directory is None:
        return None
    try:
        return read_owner_file(_path(directory, op_id))
    except ValueError:  # not an Op id
        return None


def read_owner_file(path: str) -> dict[str, Any] | None:
    """What the owner file at `path` says, or None (no such file, or unreadable)."""
    try:
        with open(path, "rb") as handle:
            owner = jsontext.loads(handle.read(4096))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None


def assess(owner: dict[str, Any] | None,
           liveness: Callable[[int], tuple[bool, int | None]] = processes.liveness) -> tuple[str, str]:
    """(`running` | `dead` | `unknown`, why), for an owner as `read_owner` returns it
    (`liveness`: whether a pid runs and since when, `processes.liveness`)."""
    if owner is None:
        return UNKNOWN, "no owner recorded"
    pid, host = owner["pid"], owner.get("host")
    if host != processes.host_name():
        return UNKNOWN, f"owner pid {pid} runs on another host ({host})"
    if owner.get("boot_id") != processes.boot_id():
        return UNKNOWN, f"owner pid {pid} was recorded before the last reboot"
    if owner.get("pid_namespace") != processes.pid_namespace():
        return UNKNOWN, f"owner pid {pid} runs in another pid namespace ({owner.get('pid_namespace')})"
    alive, now = liveness(pid)
    if not alive:
        return DEAD, f"owner pid {pid} is gone"
    recorded = owner.get("start_time")
    if recorded is None or now is None:
        return UNKNOWN, f"owner pid {pid} exists, but its start time is not known"
    if recorded != now:
        return DEAD, f"owner pid {pid} is gone (the pid now belongs to another process)"
    return RUNNING, f"owner pid {pid} is running"


def owner_state(repo_root: str | os.PathLike[str], op_id: str) -> str:
    """`running`, `dead` or `unknown` for the open Op `op_id`."""
    return assess(read_owner(owners_dir(repo_root), op_id))[0]


class OwnerStates:
    """The owners of one repository's open Ops, its directory found on first use
    (a reader asks only when it meets an open Op). `known`: a cache of owner
    files (`kitty_ops.store.untracked.UntrackedCache`), for the orphans hook."""

    def __init__(self, repo_root: str | os.PathLike[str] | None = None, common_dir: str | None = None,
                 known: UntrackedCache | None = None) -> None:
        self._root = repo_root  # None: the repository in the current directory (the hook)
        self._directory: str | None = os.path.join(common_dir, OWNERS_SUBDIR) if common_dir else None
        self._found = common_dir is not None
        self._recorded: set[str] | None = None  # the file names there, listed once
        self._liveness: dict[int, tuple[bool, int | None]] = {}  # pid -> processes.liveness, read once
        self._known = known
        self._now_ns = time.time_ns()

    @property
    def directory(self) -> str | None:
        if not self._found:
            self._directory = owners_dir_here() if self._root is None else owners_dir(self._root)
            self._found = True
        return self._directory

    def assess(self, op_id: str) -> tuple[str, str]:
        return assess(self.owner(op_id), self._pid_liveness)

    def _pid_liveness(self, pid: int) -> tuple[bool, int | None]:
        """Each pid's liveness read once a run: agents often own many Ops each."""
        if pid not in self._liveness:
            self._liveness[pid] = processes.liveness(pid)
        return self._liveness[pid]

    def owner(self, op_id: str) -> dict[str, Any] | None:
        """The recorded owner; the directory is listed once, so that the open Ops
        with no owner recorded (a thousand, at 100,000 records) cost no open()."""
        directory = self.directory
        if directory is not None and self._recorded is None:
            try:
                self._recorded = set(os.listdir(directory))
            except OSError:
                self._recorded = set()
        if self._recorded is not None and op_id + _SUFFIX not in self._recorded:
            return None
        if self._known is not None and directory is not None:
            return self._known.owner_file(_path(directory, op_id), read_owner_file, self._now_ns)
        return read_owner(directory, op_id)


def command_line_owner(owner_pid: int | None, notes: list[str] | None = None) -> int:
    """The owner of an Op started from the command line: `--owner-pid`, which
    must name a running process, else the nearest ancestor that is not a
    shell; 0 (none) when there is no such ancestor, or when an interactive
    shell comes first (a person typed the command: the terminal would own the
    Op for as long as it lives, so its age decides). `notes` gets the line
    that says so."""
    if owner_pid is not None:
        if owner_pid <= 0 or not processes.is_alive(owner_pid):
            from kitty_ops.errors import InvalidInput

            raise InvalidInput(f"--owner-pid {owner_pid}: no such process")
        return owner_pid
    interactive: list[int] = []
    owner = processes.nearest_non_shell_ancestor(interactive=interactive) or 0
    if interactive and notes is not None:
        notes.append(
            "started from an interactive shell: the Op has no owner process; it is stale once older than"
            " kitty-ops.maxAgeHours (give --owner-pid PID to tie it to a process)"
        )
    return owner
