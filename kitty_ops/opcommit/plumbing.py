"""git's plumbing, where the Op commit leaves the work to git: every failure
becomes CommitSkipped (the record stays pending), said in one line."""
from __future__ import annotations

from kitty_ops.errors import CommitSkipped
from kitty_ops.gitio import git

MISSING_TIP = "the branch tip {} is missing from the object store (pruned by a concurrent `git gc --prune=now`?)"


def run(repo: git.Repo, env: dict[str, str], args: list[str], *, input: bytes | None = None,
        index: str | None = None) -> str:
    """The output of `git <args>` (with `index` as GIT_INDEX_FILE)."""
    if index:
        env = {**env, "GIT_INDEX_FILE": index}
    try:
        result = git.run(args, repo.top, input=input, env=env, replace_env=True)
    except git.GitError as exc:
        raise CommitSkipped(explain(exc)) from None
    return result.stdout.decode(errors="surrogateescape")


def explain(exc: git.GitError) -> str:
    if "but expected" in exc.stderr or "cannot lock ref" in exc.stderr:
        return "HEAD moved while committing (another program updated it)"
    return str(exc)


def read_tree(repo: git.Repo, env: dict[str, str], head: str | None, index: str) -> None:
    """HEAD's tree (or none, before the first commit) into the temporary `index`."""
    try:
        git.run(["read-tree", head] if head else ["read-tree", "--empty"], repo.top,
                env={**env, "GIT_INDEX_FILE": index}, replace_env=True)
    except git.GitError as exc:
        if head and ("unpack tree object" in exc.stderr or "not a tree object" in exc.stderr):
            raise CommitSkipped(MISSING_TIP.format(head[:8])) from None
        raise CommitSkipped(explain(exc)) from None


def commit_tree(repo: git.Repo, env: dict[str, str], tree: str, parents: list[str], sign: bool,
                message: str) -> str:
    """The commit `git commit-tree` makes (and signs, with `sign`)."""
    args = ["commit-tree", tree, *(arg for parent in parents for arg in ("-p", parent))]
    try:
        return git.output([*args, *(["-S"] if sign else []), "-m", message], repo.top, env=env, replace_env=True)
    except git.GitError as exc:
        if "gpg" in exc.stderr.lower() or "sign" in exc.stderr.lower():
            first = (exc.stderr.strip().splitlines() or ["no message"])[0]
            if "ssh-add" in str(exc):  # a key that needs its passphrase: git.failure says what to do
                first = str(exc).removeprefix("git commit-tree failed: ")
            raise CommitSkipped(f"signing the commit failed ({first})") from None
        raise CommitSkipped(str(exc)) from None


def head_commit(repo: git.Repo) -> str | None:
    """The commit HEAD's branch points at (from the ref files where refs are files);
    None for an unborn branch."""
    ref = git.head_branch(repo)
    if ref is None:
        raise CommitSkipped("HEAD is detached; check out a branch first")
    return git.ref_commit(repo, ref)
