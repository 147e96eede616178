"""Which records wait for an Op commit: those noted at completion
(`kitty_ops.store.uncommitted`), and those git sees as new or grown (or, in ref
mode, that the ref lacks or holds at another size)."""
from __future__ import annotations

import os

from kitty_ops.errors import KittyOpsError
from kitty_ops.format.layout import EVENTS_DIR, op_id_from_path, record_relpath
from kitty_ops.gitio import git
from kitty_ops.opcommit.worktree import NoSuchRecord
from kitty_ops.store import uncommitted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection


def noted_paths(repo: git.Repo) -> list[str]:
    """The records of completions noted as not committed yet (`kitty_ops.store.uncommitted`)."""
    return [record_relpath(op_id) for op_id in uncommitted.noted(repo.git_path)]


def forget_landed(repo: git.Repo, results: dict[str, str | KittyOpsError | None],
                  taken_along: Collection[str] = ()) -> None:
    """Drop the notes of records now in the target (or no longer in the work
    tree); the completions of those `taken_along` (a group commit) learn their commit."""
    done = [op_id_from_path(path) or "" for path, outcome in results.items()
            if not isinstance(outcome, KittyOpsError) or isinstance(outcome, NoSuchRecord)]
    landed = {op_id_from_path(path) or "": outcome for path, outcome in results.items()
              if path in taken_along and isinstance(outcome, str)}
    if landed:
        uncommitted.note_landed(repo.git_path, landed)
    uncommitted.forget(repo.git_path, [op_id for op_id in done if op_id])


def pending_paths(repo: git.Repo, ref: str | None = None, every_change: bool = False) -> list[str]:
    """Records that git sees as untracked or changed under kitty-ops/ or, in ref
    mode, that `ref` lacks or holds at another size (candidates: each is checked
    to be completed and valid before it is committed)."""
    if ref is not None:
        return _pending_against_ref(repo, ref, git.repo_env(repo))
    return finish_pending_queries(repo, start_pending_queries(repo), every_change)


def start_pending_queries(repo: git.Repo) -> list[git.Running]:
    """Start the branch mode queries of `pending_paths` (run side by side)."""
    env = git.repo_env(repo)
    pathspec = f":(top){EVENTS_DIR}/"
    return [
        git.start(["ls-files", "--others", "-z", "--", pathspec], repo.top, env=env),  # untracked
        git.start(["diff-files", "--name-only", "-z", "--", pathspec], repo.top, env=env),  # changed
        git.start(["diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=AM", "--", pathspec],
                  repo.top, env=env),  # staged by hand
    ]


def finish_pending_queries(repo: git.Repo, queries: list[git.Running], every_change: bool = False) -> list[str]:
    """The candidates the queries found; with `every_change`, each record whose
    stat data changed (`doctor`, which must see a same-size rewrite), else only
    those that grew (the Op commit's healing, which must stay cheap)."""
    untracked, changed, staged = ([path for path in git.split_z(git.finish(query)) if op_id_from_path(path)]
                                  for query in queries)
    return sorted({*untracked, *(changed if every_change else _grown(repo, changed)), *staged})


def _grown(repo: git.Repo, changed: list[str]) -> list[str]:
    """The records among `changed` (what `diff-files` reports) whose size differs
    from the index's version. `diff-files` goes by stat data alone: after a
    `touch`, a copy or a restore it names every record, and reading them all on
    every Op commit would cost seconds. A record only grows, so one that changed
    has another size (a same-size rewrite is the audit's and the hooks' concern)."""
    if not changed:
        return []
    stdin = "".join(f":{path}\n" for path in changed).encode(errors="surrogateescape")
    raw = git.run(["cat-file", "--batch-check=%(objectsize)"], repo.top, input=stdin, env=git.repo_env(repo),
                  replace_env=True).stdout.decode().split("\n")
    grown = []
    for path, size in zip(changed, raw, strict=False):
        try:
            on_disk = os.lstat(os.path.join(repo.top, path)).st_size
        except OSError:
            continue  # deleted in the work tree: nothing to commit
        if not size.isdigit() or int(size) != on_disk:
            grown.append(path)
    return grown


def _pending_against_ref(repo: git.Repo, ref: str, env: dict[str, str]) -> list[str]:
    committed: dict[str, int] = {}
    if git.ref_commit(repo, ref):
        raw = git.run(["ls-tree", "-r", "-l", "-z", ref, "--", f"{EVENTS_DIR}/"], repo.top, env=env,
                      replace_env=True).stdout
        for entry in git.split_z(raw):
            meta, _, path = entry.partition("\t")
            size = meta.split()[-1]
            committed[path] = int(size) if size.isdigit() else -1
    found = []
    events_dir = os.path.join(repo.top, EVENTS_DIR)
    for item in os.scandir(events_dir) if os.path.isdir(events_dir) else ():
        record = f"{EVENTS_DIR}/{item.name}"
        if (op_id_from_path(record) and item.is_file(follow_symlinks=False)
                and committed.get(record) != item.stat(follow_symlinks=False).st_size):
            found.append(record)
    return sorted(found)
