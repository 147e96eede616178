"""The questions kitty-ops asks of git, and the one door to it: running git
(`kitty_ops.gitio.process`), its environment (`kitty_ops.gitio.environment`)
and finding the repository (`kitty_ops.gitio.repo`) are re-exported here, so
that every caller says `git.run`, `git.Repo`, `git.find_repo`.
"""
from __future__ import annotations

import os

from kitty_ops.gitio import refs
from kitty_ops.gitio.environment import (  # noqa: F401 (re-exported)
    PATHSPEC_VARIABLES,
    REPOSITORY_VARIABLES,
    allowed_environ,
    clean_env,
)
from kitty_ops.gitio.process import (  # noqa: F401 (re-exported)
    GIT_TIMEOUT_SECONDS,
    GitError,
    Result,
    Running,
    failure,
    finish,
    last_line,
    output,
    run,
    split_z,
    start,
)
from kitty_ops.gitio.repo import (  # noqa: F401 (re-exported)
    Repo,
    UntrustedRepository,
    find_repo,
    repo_env,
    toplevel,
    work_root,
    work_top,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

IN_PROGRESS_MARKERS = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
)


def operation_in_progress(repo: Repo) -> str | None:
    """'a merge', 'a rebase', ... when one is under way in this work tree."""
    for marker, name in IN_PROGRESS_MARKERS:
        if os.path.exists(os.path.join(repo.git_path, marker)):
            return name
    return None


def head_branch(repo: Repo) -> str | None:
    """The full ref HEAD points at (`refs/heads/main`), None when detached: from
    the HEAD file (`refs.head_target`), else from git."""
    try:
        return refs.head_target(repo.git_path)
    except refs.Unsupported:
        pass
    result = run(["symbolic-ref", "-q", "HEAD"], repo.top, env=repo_env(repo), replace_env=True, check=False)
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


def ref_commit(repo: Repo, ref: str) -> str | None:
    """The commit `ref` (a full ref name) points at, None when absent: from the
    ref files where refs are files (`refs.read`), else from git."""
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
    return {spec: found[2] if found else None for spec, found in read_objects(repo_root, specs).items()}


def read_objects(
    repo_root: Path | str, specs: list[str], env: dict[str, str] | None = None
) -> dict[str, tuple[str, str, bytes] | None]:
    """`{spec: (object id, type, content)}` for object names (`HEAD`,
    `HEAD:path`, `:path`), None where there is none; one `cat-file --batch`.
    `env`, when given, is the whole environment (see `repo_env`)."""
    if not specs:
        return {}
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
