"""The one place kitty-ops runs git, and the questions it asks of it.

Every call is non-interactive and bounded: no prompt, pager or editor, stdin
closed, and a timeout, so that nothing kitty-ops does can hang on git.

The pre-commit hooks import this module on every commit, so it imports only
`os` and `select` up front; `subprocess` and `pathlib` are imported where they
are used (together they cost more than the hook's own work).
"""
from __future__ import annotations

import os
import select
import time

from kitty_ops import settings
from kitty_ops.errors import KittyOpsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from pathlib import Path
    from typing import Any

GIT_TIMEOUT_SECONDS = settings.git_timeout()
_QUIET_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_EDITOR": "false",
    "GIT_SEQUENCE_EDITOR": "false",
    "GCM_INTERACTIVE": "never",
    "GIT_OPTIONAL_LOCKS": "0",
}
IN_PROGRESS_MARKERS = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
)


class GitError(KittyOpsError):
    """git failed, or could not be run; the message is one line."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


# What git exports to the hooks it runs (and rebase/am to their children): kept,
# they would point kitty-ops' own git calls at the running command's index.
HOOK_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH",
    "GIT_REFLOG_ACTION", "GIT_INTERNAL_SUPER_PREFIX",
)


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, **_QUIET_ENV}
    if extra:
        env.update(extra)
    return env


def repo_env(repo: Repo) -> dict[str, str]:
    """The whole environment for git calls of the commit path: the variables a
    running git command exports to its hooks removed, and the repository the
    user asked for named explicitly."""
    env = {name: value for name, value in os.environ.items() if name not in HOOK_VARIABLES}
    env.update(_QUIET_ENV)
    env["GIT_DIR"] = repo.git_path
    env["GIT_WORK_TREE"] = repo.top
    return env


class Result:
    """What a finished git call left: its exit code and output."""

    __slots__ = ("returncode", "stdout", "stderr")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run(
    args: list[str],
    cwd: Path | str | os.PathLike[str],
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
    replace_env: bool = False,
) -> Result:
    """Run `git <args>` in `cwd`; GitError on failure (when `check`) or timeout.

    `env` adds to the environment, or is the whole of it with `replace_env`.
    """
    running = start(args, cwd, env if replace_env and env is not None else _env(env), input=input)
    out, err, code = _wait(running, timeout or GIT_TIMEOUT_SECONDS)
    if check and code != 0:
        stderr = err.decode(errors="replace").strip()
        raise GitError(f"git {args[0]} failed: {_last_line(stderr)}", stderr)
    return Result(code, out, err)


class Running:
    """A git process started by `start`, not yet waited for."""

    __slots__ = ("name", "pid", "stdout", "stderr", "stdin", "input", "popen")

    def __init__(self, name: str) -> None:
        self.name = name
        self.pid = 0
        self.stdout = self.stderr = self.stdin = -1
        self.input = b""
        self.popen: subprocess.Popen[bytes] | None = None


def start(
    args: list[str], cwd: Path | str | os.PathLike[str] = ".", env: dict[str, str] | None = None,
    input: bytes | None = None,
) -> Running:
    """Start `git <args>` without waiting, to run several queries side by side;
    `input` is fed to its standard input (else it reads nothing).

    Spawned with `os.posix_spawnp` where there is one: every git call of the
    hooks and of the Op commit goes through here, and importing `subprocess`
    costs as much as a git call.
    """
    running = Running(args[0])
    command = ["git", "-C", os.fspath(cwd), *args]
    if not hasattr(os, "posix_spawnp"):  # Windows
        import subprocess

        pipe = subprocess.PIPE
        running.popen = subprocess.Popen(
            command, stdin=subprocess.DEVNULL if input is None else pipe, stdout=pipe, stderr=pipe,
            env=env or _env(None),
        )
        running.input = input or b""
        return running
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    in_read = -1
    if input is None:
        actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
    else:
        in_read, running.stdin = os.pipe()
        actions = [(os.POSIX_SPAWN_DUP2, in_read, 0)]
        running.input = input
    actions += [(os.POSIX_SPAWN_DUP2, out_write, 1), (os.POSIX_SPAWN_DUP2, err_write, 2)]
    try:
        running.pid = os.posix_spawnp("git", command, env or _env(None), file_actions=actions)
    except OSError as exc:
        for fd in (out_read, err_read, running.stdin):
            if fd >= 0:
                os.close(fd)
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    finally:
        for fd in (out_write, err_write, in_read):
            if fd >= 0:
                os.close(fd)
    running.stdout, running.stderr = out_read, err_read
    return running


def finish(running: Running, check: bool = True) -> bytes:
    """The output of a git process from `start`; GitError when it failed (when `check`)."""
    out, err, code = _wait(running, GIT_TIMEOUT_SECONDS)
    if code != 0 and check:
        stderr = err.decode(errors="replace").strip()
        raise GitError(f"git {running.name} failed: {_last_line(stderr)}", stderr)
    return out


def _wait(running: Running, timeout: float) -> tuple[bytes, bytes, int]:
    """(stdout, stderr, exit code) of a started git process, within `timeout`."""
    if running.popen is None:
        return _collect(running, timeout)
    import subprocess

    try:
        out, err = running.popen.communicate(running.input or None, timeout=timeout)
    except subprocess.TimeoutExpired:
        running.popen.kill()
        running.popen.wait()
        raise GitError(f"git {running.name} timed out after {timeout:g}s") from None
    return out, err, running.popen.returncode


def _collect(running: Running, timeout: float) -> tuple[bytes, bytes, int]:
    """Feed the input, read both pipes to the end (within the timeout), then reap the process."""
    chunks: dict[int, list[bytes]] = {running.stdout: [], running.stderr: []}
    open_fds = list(chunks)
    pending = memoryview(running.input)
    writing = [running.stdin] if running.stdin >= 0 else []
    if writing:
        os.set_blocking(running.stdin, False)
        if not pending:
            os.close(running.stdin)
            writing = []
    deadline = time.monotonic() + timeout
    try:
        while open_fds or writing:
            remaining = deadline - time.monotonic()
            ready = select.select(open_fds, writing, [], remaining) if remaining > 0 else ([], [], [])
            if not ready[0] and not ready[1]:
                os.kill(running.pid, 9)
                os.waitpid(running.pid, 0)
                raise GitError(f"git {running.name} timed out after {timeout:g}s")
            if ready[1]:
                try:
                    pending = pending[os.write(running.stdin, pending[: 1 << 16]):]
                except BrokenPipeError:
                    pending = pending[:0]  # git stopped reading: its exit code says why
                if not pending:
                    os.close(running.stdin)
                    writing = []
            for fd in ready[0]:
                data = os.read(fd, 1 << 16)
                if data:
                    chunks[fd].append(data)
                else:
                    open_fds.remove(fd)
    finally:
        os.close(running.stdout)
        os.close(running.stderr)
        if writing:
            os.close(running.stdin)
    status = os.waitpid(running.pid, 0)[1]
    return b"".join(chunks[running.stdout]), b"".join(chunks[running.stderr]), os.waitstatus_to_exitcode(status)


def split_z(raw: bytes) -> list[str]:
    """The entries of NUL-separated git output (`-z`)."""
    return [entry for entry in raw.decode(errors="surrogateescape").split("\0") if entry]


def output(args: list[str], cwd: Path | str, **kwargs: Any) -> str:
    return run(args, cwd, **kwargs).stdout.decode(errors="surrogateescape").strip()


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


class Repo:
    """A work tree and its git directories: as text (`top`, `git_path`,
    `common_path`, for the Op's own path, which never imports pathlib) and as
    Paths (`root`, `git_dir`, `common_dir`)."""

    __slots__ = ("top", "git_path", "common_path")

    def __init__(self, root: str | os.PathLike[str], git_dir: str | os.PathLike[str],
                 common_dir: str | os.PathLike[str]) -> None:
        self.top = os.fspath(root)
        self.git_path = os.fspath(git_dir)
        self.common_path = os.fspath(common_dir)

    @property
    def root(self) -> Path:
        from pathlib import Path

        return Path(self.top)

    @property
    def git_dir(self) -> Path:
        from pathlib import Path

        return Path(self.git_path)

    @property
    def common_dir(self) -> Path:
        from pathlib import Path

        return Path(self.common_path)


_found: dict[str, Repo] = {}


def find_repo(path: Path | str | os.PathLike[str]) -> Repo | None:
    """The repository whose work tree holds `path`, or None outside git.

    Found repositories are remembered for the life of the process: one Op
    completion asks several times, and a work tree does not move.
    """
    key = os.path.abspath(path)
    if key in _found:
        return _found[key]
    found = _discover(key)
    if found is None:
        result = run(
            ["rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
            path,
            check=False,
        )
        lines = result.stdout.decode(errors="surrogateescape").splitlines()
        if result.returncode != 0 or len(lines) != 3:
            return None
        root, git_dir, common_dir = lines
        found = Repo(root, git_dir, os.path.realpath(os.path.join(path, common_dir)))
    _found[key] = found
    return found


# Set, they change how git finds a repository: then git is asked.
_DISCOVERY_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
                        "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")


def _discover(path: str) -> Repo | None:
    """The repository of `path` found as git finds it in the plain case (a `.git`
    directory or `gitdir:` file in it or a parent on the same file system, owned
    by this user, with no `core.worktree`, `core.bare` or includes in its
    config); None for anything else, which `git rev-parse` then answers. Saves a
    git call on every `kitty-ops complete`."""
    if any(name in os.environ for name in _DISCOVERY_VARIABLES):
        return None
    import stat

    current = os.path.realpath(path)
    if "/.git/" in current + "/":
        return None  # inside a git directory: git's answer differs
    try:
        device = os.stat(current).st_dev
    except OSError:
        return None
    while True:
        dotgit = os.path.join(current, ".git")
        try:
            info = os.lstat(dotgit)
        except FileNotFoundError:
            parent = os.path.dirname(current)
            if parent == current:
                return None
            try:
                if os.stat(parent).st_dev != device:
                    return None  # git stops at a mount point
            except OSError:
                return None
            current = parent
            continue
        except OSError:
            return None
        return _repo_at(current, dotgit, info, stat.S_ISDIR(info.st_mode), stat.S_ISREG(info.st_mode))


def _repo_at(top: str, dotgit: str, info: os.stat_result, is_dir: bool, is_file: bool) -> Repo | None:
    if is_dir:
        git_dir = dotgit
    elif is_file:  # a linked work tree or a submodule: `gitdir: <path>`
        text = _small_text(dotgit)
        if text is None or not text.startswith("gitdir: "):
            return None
        git_dir = os.path.join(top, text[len("gitdir: "):].strip())
    else:
        return None
    common = git_dir
    pointer = _small_text(os.path.join(git_dir, "commondir"))
    if pointer is not None:
        common = os.path.join(git_dir, pointer.strip())
    config = _small_text(os.path.join(common, "config"))
    uid = os.getuid() if hasattr(os, "getuid") else None
    if (config is None or not os.path.isfile(os.path.join(git_dir, "HEAD"))
            or uid is None or os.stat(top).st_uid != uid or info.st_uid != uid or _unusual(config)):
        return None
    return Repo(top, os.path.realpath(git_dir), os.path.realpath(common))


def _unusual(config: str) -> bool:
    """Whether a repository's config says anything that moves its work tree (or might)."""
    lowered = config.lower()
    if "worktree" in lowered or "include" in lowered:
        return True
    settings = ("".join(line.split()) for line in lowered.splitlines())
    return any(setting.startswith("bare") and setting != "bare=false" for setting in settings)


def _small_text(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 20).decode(errors="surrogateescape")
    except OSError:
        return None


def work_root(directory: Path | str | None = None) -> Path:
    """The root kitty-ops works in: the git top level of `directory` (default:
    the current directory), or the directory itself outside git."""
    from pathlib import Path

    return Path(work_top(directory))


def work_top(directory: Path | str | None = None) -> str:
    """`work_root` as text."""
    from kitty_ops.errors import InvalidInput

    path = os.fspath(directory) if directory else os.getcwd()
    if not os.path.isdir(path):
        raise InvalidInput(f"{directory}: no such directory")
    repo = find_repo(path)
    return repo.top if repo else os.path.realpath(path)


def toplevel(path: Path | str) -> Path | None:
    repo = find_repo(path)
    return repo.root if repo else None


def operation_in_progress(repo: Repo) -> str | None:
    """'a merge', 'a rebase', ... when one is under way in this work tree."""
    for marker, name in IN_PROGRESS_MARKERS:
        if os.path.exists(os.path.join(repo.git_path, marker)):
            return name
    return None


def head_branch(repo: Repo) -> str | None:
    """The full ref HEAD points at (`refs/heads/main`), None when detached."""
    try:
        with open(os.path.join(repo.git_path, "HEAD"), "rb") as handle:
            head = handle.read(4096).decode(errors="surrogateescape").strip()
        if head.startswith("ref: refs/"):
            return head[len("ref: "):]
        if len(head) in (40, 64) and all(char in "0123456789abcdef" for char in head):
            return None
    except OSError:
        pass
    result = run(["symbolic-ref", "-q", "HEAD"], repo.top, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def hash_objects(repo: Repo, paths: list[str]) -> list[str]:
    """Write the work-tree files `paths` to the object store; their blob ids."""
    return output(["hash-object", "-w", "--", *paths], repo.top).split()


def object_ids(repo: Repo, specs: list[str]) -> dict[str, str | None]:
    """The object each spec names (`HEAD^{commit}`, `HEAD:path`), None where
    there is none (an unborn branch, a path HEAD lacks): one git call for all."""
    stdin = "".join(f"{spec}\n" for spec in specs).encode(errors="surrogateescape")
    raw = run(["cat-file", "--batch-check=%(objectname)"], repo.top, input=stdin).stdout
    answers = raw.decode(errors="surrogateescape").splitlines()
    return {spec: None if answer.endswith(" missing") else answer for spec, answer in zip(specs, answers, strict=True)}


def index_info(entries: dict[str, str]) -> bytes:
    """`update-index --index-info` input that sets each path to its blob."""
    return "".join(f"100644 {blob}\t{path}\n" for path, blob in entries.items()).encode(
        errors="surrogateescape"
    )


def config_values(repo_root: Path | str, names: list[str]) -> dict[str, str | None]:
    """The config variables among `names` that are set, in one git call.

    Keys come back lower-case, as git canonicalises them; a variable set
    without a value (`[commit] gpgSign`) maps to None, which git reads as true.
    """
    result = run(config_args(names), repo_root, check=False)
    return parse_config(result.stdout)


def config_args(names: list[str]) -> list[str]:
    """The `git config` arguments that read the variables `names` (see `config_values`)."""
    return ["config", "-z", "--get-regexp", "^(" + "|".join(name.lower().replace(".", "\\.") for name in names) + ")$"]


def parse_config(raw: bytes) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for entry in split_z(raw):
        key, _, value = entry.partition("\n")
        values[key] = value if "\n" in entry else None
    return values


def is_true(value: str | None) -> bool:
    """git's reading of a boolean config value (set without a value means true)."""
    return value is None or value.strip().lower() in ("true", "yes", "on", "1")


def read_blobs(repo_root: Path | str, specs: list[str]) -> dict[str, bytes | None]:
    """The contents of objects named like `:path` or `HEAD:path`; None if missing."""
    if not specs:
        return {}
    stdin = "".join(f"{spec}\n" for spec in specs).encode(errors="surrogateescape")
    raw = run(["cat-file", "--batch"], repo_root, input=stdin).stdout
    contents: dict[str, bytes | None] = {}
    offset = 0
    for spec in specs:
        header_end = raw.index(b"\n", offset)
        header = raw[offset:header_end].split()
        if header[-1] == b"missing" or len(header) < 3:
            contents[spec] = None
            offset = header_end + 1
            continue
        size = int(header[2])
        contents[spec] = raw[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1
    return contents


def read_objects(
    repo_root: Path | str, specs: list[str], env: dict[str, str] | None = None
) -> dict[str, tuple[str, str, bytes] | None]:
    """`{spec: (object id, type, content)}` for object names (`HEAD`,
    `HEAD:path`, `:path`), None where there is none; one `cat-file --batch`.
    `env`, when given, is the whole environment (see `repo_env`)."""
    stdin = "".join(f"{spec}\n" for spec in specs).encode(errors="surrogateescape")
    raw = run(["cat-file", "--batch"], repo_root, input=stdin, env=env, replace_env=env is not None).stdout
    found: dict[str, tuple[str, str, bytes] | None] = {}
    offset = 0
    for spec in specs:
        header_end = raw.index(b"\n", offset)
        header = raw[offset:header_end].split()
        if len(header) < 3 or header[-1] == b"missing":
            found[spec] = None
            offset = header_end + 1
            continue
        size = int(header[2])
        content = raw[header_end + 1 : header_end + 1 + size]
        found[spec] = (header[0].decode(), header[1].decode(), content)
        offset = header_end + 1 + size + 1
    return found


def last_commit(repo_root: Path | str, path: str) -> str | None:
    """The newest commit that touched `path`, or None."""
    result = run(["log", "-1", "--format=%H", "--", path], repo_root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None
