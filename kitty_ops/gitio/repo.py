"""Which repository a path is in: found by kitty-ops itself where git would
find the same (a plain `.git` directory or file), else asked of git."""
from __future__ import annotations

import os

from kitty_ops.errors import EXIT_USAGE
from kitty_ops.gitio.environment import clean_env
from kitty_ops.gitio.process import GitError, run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


class UntrustedRepository(GitError):
    """git refuses the repository (`safe.directory`: it belongs to another user).
    Not "outside git": nothing may be written as if it were."""

    exit_code = EXIT_USAGE


def repo_env(repo: Repo) -> dict[str, str]:
    """The whole environment for git calls of the commit path: `clean_env`,
    and the repository the user asked for named explicitly (what a running git
    command exports to its hooks is never used)."""
    env = clean_env()
    env["GIT_DIR"] = repo.git_path
    env["GIT_WORK_TREE"] = repo.top
    return env


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

