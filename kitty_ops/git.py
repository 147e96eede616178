"""The one place kitty-ops runs git, and the questions it asks of it.

Every call is non-interactive and bounded: no prompt, pager or editor, stdin
closed, and a timeout, so that nothing kitty-ops does can hang on git.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_TIMEOUT_SECONDS = float(os.environ.get("KITTY_OPS_GIT_TIMEOUT", "60"))
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


class GitError(Exception):
    """git failed, or could not be run; the message is one line."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, **_QUIET_ENV}
    if extra:
        env.update(extra)
    return env


def run(
    args: list[str],
    cwd: Path | str,
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """Run `git <args>` in `cwd`; GitError on failure (when `check`) or timeout."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            env=_env(env),
            timeout=timeout or GIT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout or GIT_TIMEOUT_SECONDS:g}s") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if check and result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise GitError(f"git {args[0]} failed: {_last_line(stderr)}", stderr)
    return result


def start(args: list[str], cwd: Path | str = ".") -> subprocess.Popen:
    """Start `git <args>` without waiting, to run several queries side by side."""
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(None),
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None


def finish(process: subprocess.Popen) -> bytes:
    """The output of a git process from `start`; GitError when it failed."""
    try:
        out, err = process.communicate(timeout=GIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        raise GitError(f"git {process.args[1]} timed out after {GIT_TIMEOUT_SECONDS:g}s") from None
    if process.returncode != 0:
        stderr = err.decode(errors="replace").strip()
        raise GitError(f"git {process.args[1]} failed: {_last_line(stderr)}", stderr)
    return out


def split_z(raw: bytes) -> list[str]:
    """The entries of NUL-separated git output (`-z`)."""
    return [entry for entry in raw.decode(errors="surrogateescape").split("\0") if entry]


def output(args: list[str], cwd: Path | str, **kwargs) -> str:
    return run(args, cwd, **kwargs).stdout.decode(errors="surrogateescape").strip()


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


class Repo:
    """A work tree and its git directories."""

    __slots__ = ("root", "git_dir", "common_dir")

    def __init__(self, root: Path, git_dir: Path, common_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir


def find_repo(path: Path | str) -> Repo | None:
    """The repository whose work tree holds `path`, or None outside git."""
    result = run(
        ["rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
        path,
        check=False,
    )
    lines = result.stdout.decode(errors="surrogateescape").splitlines()
    if result.returncode != 0 or len(lines) != 3:
        return None
    root, git_dir, common_dir = lines
    return Repo(Path(root), Path(git_dir), (Path(path) / common_dir).resolve())


def toplevel(path: Path | str) -> Path | None:
    repo = find_repo(path)
    return repo.root if repo else None


def operation_in_progress(repo: Repo) -> str | None:
    """'a merge', 'a rebase', ... when one is under way in this work tree."""
    for marker, name in IN_PROGRESS_MARKERS:
        if (repo.git_dir / marker).exists():
            return name
    return None


def head_branch(repo: Repo) -> str | None:
    """The full ref HEAD points at (`refs/heads/main`), None when detached."""
    result = run(["symbolic-ref", "-q", "HEAD"], repo.root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def resolve_commit(repo: Repo, rev: str) -> str | None:
    """The commit `rev` names, or None (an unborn branch, say)."""
    result = run(["rev-parse", "-q", "--verify", f"{rev}^{{commit}}"], repo.root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def hash_objects(repo: Repo, paths: list[str]) -> list[str]:
    """Write the work-tree files `paths` to the object store; their blob ids."""
    return output(["hash-object", "-w", "--", *paths], repo.root).split()


def tree_blobs(repo: Repo, commit: str | None, paths: list[str]) -> dict[str, str]:
    """`{path: blob id}` for those of `paths` that `commit` holds."""
    if commit is None:
        return {}
    raw = run(["ls-tree", "-z", "--full-tree", commit, "--", *paths], repo.root).stdout
    blobs = {}
    for entry in raw.decode(errors="surrogateescape").split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            blobs[path] = meta.split()[2]
    return blobs


def index_info(entries: dict[str, str]) -> bytes:
    """`update-index --index-info` input that sets each path to its blob."""
    return "".join(f"100644 {blob}\t{path}\n" for path, blob in entries.items()).encode(
        errors="surrogateescape"
    )


def config_get(repo_root: Path | str, key: str, type_: str | None = None) -> str | None:
    """A git config value (normalised by `--type`, e.g. bool), None when unset."""
    typed = [f"--type={type_}"] if type_ else []
    result = run(["config", *typed, "--get", key], repo_root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def ls_files(repo_root: Path | str, args: list[str], pathspec: str) -> list[str]:
    """Paths `git ls-files <args> -z -- <pathspec>` prints."""
    raw = run(["ls-files", *args, "-z", "--", pathspec], repo_root).stdout
    return [path for path in raw.decode(errors="surrogateescape").split("\0") if path]


def staged_paths(repo_root: Path | str, pathspec: str) -> list[tuple[str, str]]:
    """`(status letter, path)` for each change staged under `pathspec`."""
    raw = run(
        ["diff", "--cached", "--name-status", "--no-renames", "-z", "--", pathspec], repo_root
    ).stdout
    fields = raw.decode(errors="surrogateescape").split("\0")
    return [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]


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


def last_commit(repo_root: Path | str, path: str) -> str | None:
    """The newest commit that touched `path`, or None."""
    result = run(["log", "-1", "--format=%H", "--", path], repo_root, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None
