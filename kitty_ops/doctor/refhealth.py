"""Ref mode's health, for `kitty-ops doctor ops`: is the records ref shared as it should be?

- the fetch refspec that brings other clones' records is missing;
- records on the local ref that the remote does not have (`kitty-ops sync`);
- a remote ref that no longer contains what was pushed before (force-pushed
  or deleted: `git push --mirror` from a clone without it deletes it);
- copies of a record that differ with neither extending the other.
"""
from __future__ import annotations

from pathlib import Path

from kitty_ops.format.layout import RECORDS_REF, TARGET_CONFIG
from kitty_ops.gitio import git
from kitty_ops.opcommit.commit import target_ref
from kitty_ops.opcommit.sync import default_remote, fetch_refspec, last_pushed, rev, tracking_ref
from kitty_ops.store import refstore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def ref_report(repo_root: Path | str) -> dict[str, Any] | None:
    """`{"remote", "problems": [{"kind", "message", "command"}], "conflicts": [...]}`,
    or None when neither ref mode is on nor any records ref exists."""
    repo = git.find_repo(repo_root)
    if repo is None:
        return None
    ref_mode = target_ref(git.config_values(repo.root, [TARGET_CONFIG])) is not None
    refs = refstore.record_refs(repo)
    if not ref_mode and not refs:
        return None
    remote = default_remote(repo)
    problems = []
    has_remote = git.run(["remote", "get-url", remote], repo.root, check=False).returncode == 0
    if has_remote:
        fetch_config = git.run(["config", "--get-all", f"remote.{remote}.fetch"], repo.root, check=False)
        fetched = fetch_config.stdout.decode().split()
        if fetch_refspec(remote) not in fetched:
            problems.append({
                "kind": "refspec-missing",
                "message": f"git fetch {remote} does not bring other clones' records",
                "command": f"kitty-ops init --ref --remote {remote}",
            })
        problems += _sharing_problems(repo, remote)
    conflicts = refstore.all_copies(repo.root).conflicts
    return {"remote": remote if has_remote else None, "problems": problems, "conflicts": conflicts}


def _sharing_problems(repo: git.Repo, remote: str) -> list[dict[str, Any]]:
    local, theirs, pushed = rev(repo, RECORDS_REF), rev(repo, tracking_ref(remote)), last_pushed(repo, remote)
    problems = []
    if pushed and (theirs is None or not _contains(repo, theirs, pushed)):
        problems.append({
            "kind": "remote-lost",
            "message": f"{remote}'s records ref no longer holds what this clone pushed ({pushed[:12]}):"
                       " it was force-pushed or deleted (a `git push --mirror`?)",
            "command": f"kitty-ops sync {remote}",
        })
    if local and local != theirs and (theirs is None or not _contains(repo, theirs, local)):
        unshared = _records_missing(repo, local, theirs)
        if unshared:
            problems.append({
                "kind": "unpushed",
                "message": f"{unshared} record(s) on {RECORDS_REF} are not on {remote}",
                "command": f"kitty-ops sync {remote}",
            })
    return problems


def _contains(repo: git.Repo, tip: str, commit: str) -> bool:
    return git.run(["merge-base", "--is-ancestor", commit, tip], repo.root, check=False).returncode == 0


def _records_missing(repo: git.Repo, local: str, theirs: str | None) -> int:
    mine = refstore.tree_records(repo, local)
    other = refstore.tree_records(repo, theirs) if theirs else {}
    return sum(1 for path, blob in mine.items() if other.get(path) != blob and path.endswith(".jsonl"))
