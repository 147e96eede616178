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
from kitty_ops.errors import EXIT_USAGE, KittyOpsError

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


class UntrustedRepository(GitError):
    """git refuses the repository (`safe.directory`: it belongs to another user).
    Not "outside git": nothing may be written as if it were."""

    exit_code = EXIT_USAGE


# The environment of every git call is an allowlist, as pre-commit's
# `no_git_env` (pre_commit/git.py) makes it: of git's own variables only those
# that say how to reach a remote and what the user configured pass. Dropped:
# whatever a running git command exports to its hooks and children (GIT_PREFIX,
# GIT_REFLOG_ACTION, GIT_INTERNAL_*, GIT_QUARANTINE_PATH, the pathspec
# switches below, ...), GIT_TRACE*, and test switches.
_KEPT_GIT_VARIABLES = frozenset((
    # pre-commit's list
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
    "GIT_CONFIG_COUNT", "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS",
    # how GIT_SSH is to be spoken to (plink, tortoiseplink)
    "GIT_SSH_VARIANT",
    # where the user's configuration is, and what `git -c` adds to it: the
    # identity, signing key and kitty-ops settings kitty-ops must read as git does
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_PARAMETERS",
    # who commits, and when: the Op commit written without git reads them too, both must agree
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
))
_KEPT_GIT_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")

# Where the repository is, as git hands it to the hooks it runs: GIT_INDEX_FILE
# above all, the index being committed (a temporary one for `git commit -a` or
# `git commit <path>`). Kept as given by the calls that name no repository
# (`_env`: the pre-commit hooks' calls, which must read what git is committing);
# `repo_env` drops them and names the repository itself.
REPOSITORY_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)
# `git --literal-pathspecs <command>` (Magit runs every git command so), and
# --glob-, --noglob- and --icase-pathspecs, export these to the hooks and to
# every git they start: kept, they would change what kitty-ops' own pathspecs
# mean (under GIT_LITERAL_PATHSPECS `:(top)kitty-ops/` names a file of that
# name: the orphans hook then saw nothing staged). Never passed to a git call,
# whatever environment it is given (see `start`).
PATHSPEC_VARIABLES = ("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS",
                      "GIT_ICASE_PATHSPECS")

# No way to prompt. git runs in a session of its own, with no controlling
# terminal (`start`), and stdin from /dev/null; GIT_TERMINAL_PROMPT=0 stops
# git's own prompts. ssh and ssh-keygen (`gpg.format=ssh` signing: `ssh-keygen
# -Y sign`) ask for a key's passphrase on /dev/tty, else through SSH_ASKPASS:
# SSH_ASKPASS_REQUIRE=never forbids the latter (kept only when the user forces
# askpass, a passphrase supplied by a script), so that a key the ssh-agent does
# not hold fails at once with git's message instead of a dialog. GPG_TTY is
# where gpg-agent's pinentry would draw its prompt: the user's terminal. GIT_ASKPASS
# stays (pre-commit keeps it): the credential helper of CI jobs, for `sync`.
_NO_PROMPT_DROPPED = ("GPG_TTY",)


def _allowed(name: str) -> bool:
    return not name.startswith("GIT_") or name in _KEPT_GIT_VARIABLES or name.startswith(_KEPT_GIT_PREFIXES)


def allowed_environ(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment with git's own variables only as the allowlist
    (and `keep`) says: for a kitty-ops process started from a git hook."""
    return {name: value for name, value in os.environ.items() if _allowed(name) or name in keep}


def clean_env(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment every git call gets: `allowed_environ`, no way to prompt,
    no pager or editor."""
    env = allowed_environ(keep)
    for name in _NO_PROMPT_DROPPED:
        env.pop(name, None)
    env.update(_QUIET_ENV)
    if env.get("SSH_ASKPASS_REQUIRE", "").lower() != "force":
        env["SSH_ASKPASS_REQUIRE"] = "never"
    return env


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    """The environment of a call that names no repository: `clean_env`, the
    repository as git gave it (in a hook: the commit being made) kept."""
    env = clean_env(REPOSITORY_VARIABLES)
    if extra:
        env.update(extra)
    return env


def repo_env(repo: Repo) -> dict[str, str]:
    """The whole environment for git calls of the commit path: `clean_env`,
    and the repository the user asked for named explicitly (what a running git
    command exports to its hooks is never used)."""
    env = clean_env()
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
        raise failure(args[0], err)
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
    `input` is fed to its standard input (else it reads nothing). `env` is the
    whole environment (default: `_env`); the pathspec variables never pass.

    git runs in a session of its own: no controlling terminal, so neither it
    nor what it starts (ssh, ssh-keygen, gpg, a credential helper) can prompt
    on the user's terminal or be stopped by it, and a timeout kills the whole
    process group. Spawned with `os.posix_spawnp` where there is one: every git
    call of the hooks and of the Op commit goes through here, and importing
    `subprocess` costs as much as a git call.
    """
    running = Running(args[0])
    command = ["git", "-C", os.fspath(cwd), *args]
    if env is None:
        env = _env(None)
    elif any(name in env for name in PATHSPEC_VARIABLES):
        env = {name: value for name, value in env.items() if name not in PATHSPEC_VARIABLES}
    if not hasattr(os, "posix_spawnp"):  # Windows
        return _popen(running, command, env, input)
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
        running.pid = os.posix_spawnp("git", command, env, file_actions=actions, setsid=True)
    except (OSError, NotImplementedError) as exc:
        for fd in (out_read, err_read, running.stdin):
            if fd >= 0:
                os.close(fd)
        if isinstance(exc, NotImplementedError):  # no POSIX_SPAWN_SETSID here
            running.stdin = -1
            return _popen(running, command, env, input)
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    finally:
        for fd in (out_write, err_write, in_read):
            if fd >= 0:
                os.close(fd)
    running.stdout, running.stderr = out_read, err_read
    return running


def _popen(running: Running, command: list[str], env: dict[str, str], input: bytes | None) -> Running:
    """`start` through subprocess, where posix_spawn cannot start a session."""
    import subprocess

    pipe = subprocess.PIPE
    try:
        running.popen = subprocess.Popen(
            command, stdin=subprocess.DEVNULL if input is None else pipe, stdout=pipe, stderr=pipe,
            env=env, start_new_session=hasattr(os, "setsid"),
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    running.pid = running.popen.pid
    running.input = input or b""
    return running


def _kill(pid: int) -> None:
    """Kill git and everything it started: its process group (`start` made it
    the leader of a session of its own), else git alone."""
    try:
        os.killpg(pid, 9)  # SIGKILL; `signal` is not imported for this
        return
    except (AttributeError, ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, 9)
    except OSError:
        pass


def finish(running: Running, check: bool = True) -> bytes:
    """The output of a git process from `start`; GitError when it failed (when `check`)."""
    out, err, code = _wait(running, GIT_TIMEOUT_SECONDS)
    if code != 0 and check:
        raise failure(running.name, err)
    return out


def _wait(running: Running, timeout: float) -> tuple[bytes, bytes, int]:
    """(stdout, stderr, exit code) of a started git process, within `timeout`."""
    if running.popen is None:
        return _collect(running, timeout)
    import subprocess

    try:
        out, err = running.popen.communicate(running.input or None, timeout=timeout)
    except BaseException as exc:  # the timeout, or an interrupt: nothing is left running
        _kill(running.popen.pid)
        running.popen.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise GitError(f"git {running.name} timed out after {timeout:g}s") from None
        raise
    return out, err, running.popen.returncode


def _collect(running: Running, timeout: float) -> tuple[bytes, bytes, int]:
    """Feed the input, read both pipes to the end (within the timeout), then
    reap the process. On timeout, or an interrupt, its whole process group is
    killed and git reaped: nothing it started is left behind."""
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
    except BaseException:
        _kill(running.pid)
        os.waitpid(running.pid, 0)
        raise
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


_PROMPT = "Enter passphrase"  # ssh's and ssh-keygen's: "Enter passphrase: ", "Enter passphrase for key '<path>': "


def failure(name: str, err: bytes) -> GitError:
    """The GitError of a failed `git <name>`: the last line git wrote on stderr.

    ssh and ssh-keygen (ssh signing) write their passphrase prompt to stderr when
    they have no terminal to ask on, and read an empty answer: the prompt is cut
    out of what git wrote, and the message says what was wrong instead."""
    stderr = err.decode(errors="replace").strip()
    hint = ""
    if _PROMPT in stderr:
        stderr = _without_prompts(stderr)
        hint = (" (the ssh key needs its passphrase, and kitty-ops never lets git ask for one:"
                " add the key to ssh-agent with ssh-add, then retry)")
    return GitError(f"git {name} failed: {_last_line(stderr)}{hint}", stderr)


def _without_prompts(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        while _PROMPT in line:
            start = line.index(_PROMPT)
            end = line.find(": ", start)
            line = line[:start] + (line[end + 2:] if end >= 0 else "")
        lines.append(line)
    return "\n".join(lines).strip()


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
    """The repository whose work tree holds `path`, or None outside git;
    UntrustedRepository when git refuses the one it found (dubious ownership).

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
        if result.returncode != 0 and b"safe.directory" in result.stderr:
            raise _untrusted(result.stderr.decode(errors="replace"))
        if result.returncode != 0 or len(lines) != 3:
            return None
        root, git_dir, common_dir = lines
        found = Repo(root, git_dir, os.path.realpath(os.path.join(path, common_dir)))
    _found[key] = found
    return found


def _untrusted(stderr: str) -> UntrustedRepository:
    """git's refusal of a repository that belongs to another user, in one line
    with the fix git names (`git config --global --add safe.directory <path>`,
    the path quoted for the shell). Recognised by `safe.directory`, which git
    does not translate."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = lines[0].removeprefix("fatal: ") if lines else "the repository is not trusted"
    fix = next((line for line in reversed(lines) if "safe.directory" in line), "")
    path = fix.split("safe.directory", 1)[1].strip() if fix else ""
    if path:
        import shlex

        command = f"git config --global --add safe.directory {shlex.quote(path)}"
    else:
        command = "git config --global --add safe.directory <path>"
    return UntrustedRepository(f"git refuses this repository: {said}; if you trust it: {command}", stderr)


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
            or uid is None or not _owned_by(uid, top, git_dir) or info.st_uid != uid or _unusual(config)):
        return None  # git's answer (and its refusal of another user's repository) differs
    return Repo(top, os.path.realpath(git_dir), os.path.realpath(common))


def _owned_by(uid: int, *paths: str) -> bool:
    """Whether `uid` owns each of `paths` (git's `safe.directory` check, for the
    work tree, the `.git` file and the git directory it names)."""
    try:
        return all(os.stat(path).st_uid == uid for path in paths)
    except OSError:
        return False


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
    """The full ref HEAD points at (`refs/heads/main`), None when detached: from
    the HEAD file (`refs.head_target`), else from git."""
    from kitty_ops.gitio import refs

    try:
        return refs.head_target(repo.git_path)
    except refs.Unsupported:
        pass
    result = run(["symbolic-ref", "-q", "HEAD"], repo.top, env=repo_env(repo), replace_env=True, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def ref_commit(repo: Repo, ref: str) -> str | None:
    """The commit `ref` (a full ref name) points at, None when absent: from the
    ref files where refs are files (`refs.read`), else from git."""
    from kitty_ops.gitio import refs

    if refs.files_backend(repo.common_path, {}):
        try:
            return refs.read(repo.common_path, ref)
        except refs.Unsupported:
            pass
    result = run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], repo.top, env=repo_env(repo),
                 replace_env=True, check=False)
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
