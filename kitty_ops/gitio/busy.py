"""Is a person's git command that will move HEAD running in this work tree?

A plain `git commit` reads HEAD when it starts and updates it with a
compare-and-swap when it ends, but holds no lock while its hooks and the
editor run: an Op commit in between makes the person's commit fail. So before
it moves HEAD, the Op commit asks two witnesses:

- the process table (Linux `/proc`): a live `git commit`, `merge`, `rebase`,
  ... whose working directory (or `-C`, `--git-dir`, `GIT_DIR`) is this work
  tree. Exact, and there from the command's first instant.
- marks: where there is no `/proc`, the suite's pre-commit-stage hook leaves
  `<git-dir>/kitty-ops-busy/<pid>` naming the git process it runs under; a
  mark whose process is gone is ignored (and the optional post-commit hook
  removes it).

Standard library only: the hooks import it.
"""
from __future__ import annotations

import os

from kitty_ops.system import processes

MARKS_DIR = "kitty-ops-busy"
WAITING_NAME = "kitty-ops-waiting"
# git subcommands that move HEAD (or rewrite the index and work tree under it).
HEAD_MOVING = frozenset({
    "am", "bisect", "checkout", "cherry-pick", "commit", "merge", "pull", "rebase",
    "reset", "revert", "stash", "switch",
})
_OPTIONS_WITH_VALUE = frozenset({
    "-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix",
})


class GitProcess:
    """A running git command: its pid and subcommand, and where it works."""

    __slots__ = ("pid", "subcommand", "cwd", "git_dir", "work_tree")

    def __init__(self, pid: int, subcommand: str, cwd: str, git_dir: str | None, work_tree: str | None) -> None:
        self.pid = pid
        self.subcommand = subcommand
        self.cwd = cwd
        self.git_dir = git_dir
        self.work_tree = work_tree

    def __repr__(self) -> str:
        return f"git {self.subcommand} (pid {self.pid})"


def parse_command_line(argv: list[str]) -> tuple[str | None, list[str], str | None, str | None]:
    """(subcommand, `-C` paths, --git-dir, --work-tree) of a git command line."""
    paths: list[str] = []
    git_dir = work_tree = None
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg in _OPTIONS_WITH_VALUE:
            value = argv[index + 1] if index + 1 < len(argv) else ""
            if arg == "-C":
                paths.append(value)
            elif arg == "--git-dir":
                git_dir = value
            elif arg == "--work-tree":
                work_tree = value
            index += 2
            continue
        if arg.startswith("--git-dir="):
            git_dir = arg.partition("=")[2]
        elif arg.startswith("--work-tree="):
            work_tree = arg.partition("=")[2]
        elif not arg.startswith("-"):
            return arg, paths, git_dir, work_tree
        index += 1
    return None, paths, git_dir, work_tree


def _environ_value(pid: int, name: str) -> str | None:
    raw = processes.read_small(f"{processes.PROC}/{pid}/environ") or b""
    prefix = name.encode() + b"="
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix):].decode(errors="surrogateescape")
    return None


def git_process(pid: int) -> GitProcess | None:
    """The HEAD-moving git command `pid` runs, or None (not git, or read-only)."""
    if (processes.read_once(f"{processes.PROC}/{pid}/comm", 64) or b"").strip() != b"git":
        return None
    cmdline = processes.read_small(f"{processes.PROC}/{pid}/cmdline") or b""
    argv = [arg.decode(errors="surrogateescape") for arg in cmdline.split(b"\0")[:-1]]
    subcommand, paths, git_dir, work_tree = parse_command_line(argv)
    if subcommand not in HEAD_MOVING:
        return None
    try:
        cwd = os.readlink(f"{processes.PROC}/{pid}/cwd")
    except OSError:
        return None
    for path in paths:
        cwd = os.path.join(cwd, path)
    git_dir = git_dir or _environ_value(pid, "GIT_DIR")
    work_tree = work_tree or _environ_value(pid, "GIT_WORK_TREE")
    git_dir = git_dir and os.path.join(cwd, git_dir)
    work_tree = work_tree and os.path.join(cwd, work_tree)
    return GitProcess(pid, subcommand, cwd, git_dir, work_tree)


def _works_in(process: GitProcess, root: str, git_dir: str) -> bool:
    if process.git_dir:
        return os.path.realpath(process.git_dir) == git_dir
    where = os.path.realpath(process.work_tree or process.cwd)
    return where == root or where.startswith(root + os.sep)


def running_in(root: str, git_dir: str) -> list[GitProcess]:
    """HEAD-moving git commands running in the work tree `root` (process table)."""
    root, git_dir = os.path.realpath(root), os.path.realpath(git_dir)
    found = []
    own = os.getpid()
    for name in os.listdir(processes.PROC):
        if not name.isdigit() or int(name) == own:
            continue
        process = git_process(int(name))
        if process is not None and _works_in(process, root, git_dir):
            found.append(process)
    return found


def git_ancestors(depth: int = 5) -> list[int]:
    """The git processes among the nearest `depth` ancestors of this process."""
    return [pid for pid in processes.ancestors(depth=depth) if processes.process_name(pid) == "git"]


def git_dir_from_hook_env() -> str | None:
    """The git directory of the git command whose hook this is (its GIT_INDEX_FILE)."""
    index_file = os.environ.get("GIT_INDEX_FILE")
    return os.path.dirname(os.path.abspath(index_file)) if index_file else None


def mark_from_hook() -> None:
    """In a pre-commit-stage hook: where there is no process table to ask, mark
    the git command this hook runs under, so Op commits wait for it."""
    if processes.has_proc():
        return  # the process table says it exactly, from the command's start
    git_dir = git_dir_from_hook_env()
    if git_dir:
        for pid in git_ancestors():
            mark(git_dir, pid)


def mark(git_dir: str, pid: int) -> None:
    """Note that the git command `pid` runs in this work tree (best effort)."""
    directory = os.path.join(git_dir, MARKS_DIR)
    try:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, str(pid)), "w") as handle:
            handle.write(f"{processes.host_name()}\n")
    except OSError:
        pass


def unmark(git_dir: str, pid: int | None = None) -> None:
    """Remove the mark of `pid`, and every mark whose process is gone."""
    directory = os.path.join(git_dir, MARKS_DIR)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.isdigit() and (int(name) == pid or not processes.is_alive(int(name))):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def marked(git_dir: str) -> list[int]:
    """Pids of live git commands that a mark names."""
    try:
        names = os.listdir(os.path.join(git_dir, MARKS_DIR))
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit() and processes.is_alive(int(name))]


def busy_pids(root: str, git_dir: str) -> dict[int, str]:
    """`{pid: what}` of the person's git commands that an Op commit must not race."""
    found = busy_pids_marked(git_dir)
    if processes.has_proc():
        found.update({process.pid: repr(process) for process in running_in(root, git_dir)})
    return found


def busy_ancestors(root: str, git_dir: str) -> dict[int, str]:
    """`busy_pids` among this process's ancestors only: a HEAD-moving git command
    of this work tree whose hook (or a child of it) this process is."""
    chain = set(processes.ancestors())
    found = {pid: what for pid, what in busy_pids_marked(git_dir).items() if pid in chain}
    if processes.has_proc():
        real_root, real_git_dir = os.path.realpath(root), os.path.realpath(git_dir)
        for pid in chain:
            process = git_process(pid)
            if process is not None and _works_in(process, real_root, real_git_dir):
                found[pid] = repr(process)
    return found


def busy_pids_marked(git_dir: str) -> dict[int, str]:
    return {pid: f"git (pid {pid}, marked by the pre-commit hook)" for pid in marked(git_dir)}


SEEN_NAME = os.path.join("kitty-ops", "person-seen")  # under the git directory
SEEN_SECONDS = 60.0


def note_seen(git_dir: str) -> None:
    """Leave word that a person's HEAD-moving git command was met in this work tree."""
    path = os.path.join(git_dir, SEEN_NAME)
    try:
        try:
            os.utime(path)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb"):
                pass
    except OSError:
        pass


def seen_lately(git_dir: str, now: float) -> bool:
    """Whether `note_seen` was left in the last SEEN_SECONDS (the person is at work)."""
    try:
        return now - os.stat(os.path.join(git_dir, SEEN_NAME)).st_mtime < SEEN_SECONDS
    except OSError:
        return False


def note_waiting(git_dir: str) -> None:
    """Leave word (for `kitty_ops.opcommit.waiter` and the post-commit hook) that an Op commit waits."""
    try:
        with open(os.path.join(git_dir, WAITING_NAME), "w"):
            pass
    except OSError:
        pass


def is_waiting(git_dir: str) -> bool:
    return os.path.exists(os.path.join(git_dir, WAITING_NAME))


def take_waiting(git_dir: str) -> bool:
    """True (and the word removed) when an Op commit waits."""
    try:
        os.unlink(os.path.join(git_dir, WAITING_NAME))
    except OSError:
        return False
    return True
