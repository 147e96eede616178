"""kitty-ops-audit, called as `main([...])` with the environment pre-commit gives a pre-push hook."""
from __future__ import annotations

from kitty_ops.hooks.audit import ZERO_ID, main, revisions_to_push
from kitty_ops.lifecycle.executor import complete_invocation

from .conftest import git, open_op


def commit_orphan(repo, message: str = "wip") -> str:
    open_op(repo)
    git(repo, "add", "kitty-ops")
    git(repo, "commit", "-qm", message, "--no-verify")
    return git(repo, "rev-parse", "HEAD")


def test_from_and_to_ref_audit_just_those_commits(committed_repo, monkeypatch, capsys):
    before = git(committed_repo, "rev-parse", "HEAD")
    sha = commit_orphan(committed_repo)
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", before)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", sha)
    assert main([]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{sha[:12]} wip: ") and "[committed-orphan]" in out
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", sha)
    assert main([]) == 0
    assert capsys.readouterr().out == ""


def test_a_new_branch_excludes_what_the_remote_has(committed_repo, monkeypatch):
    published = commit_orphan(committed_repo)
    git(committed_repo, "update-ref", "refs/remotes/origin/main", published)
    op_id = open_op(committed_repo)
    complete_invocation(committed_repo, op_id)
    head = git(committed_repo, "rev-parse", "HEAD")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", ZERO_ID)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "origin")
    assert revisions_to_push({"PRE_COMMIT_FROM_REF": ZERO_ID, "PRE_COMMIT_TO_REF": head,
                              "PRE_COMMIT_REMOTE_NAME": "origin"}) == [head, f"^{published}"]
    assert main([]) == 0


def test_run_by_hand_it_audits_what_no_remote_has(committed_repo, capsys):
    commit_orphan(committed_repo)
    assert main([]) == 1  # no remote: everything is unpublished
    git(committed_repo, "update-ref", "refs/remotes/upstream/main", "HEAD")
    capsys.readouterr()
    assert main([]) == 0


def test_a_healed_orphan_does_not_block(committed_repo, monkeypatch, capsys):
    open_op_id = open_op(committed_repo)
    git(committed_repo, "add", "kitty-ops")
    git(committed_repo, "commit", "-qm", "wip", "--no-verify")
    assert main([]) == 1
    assert "The push is blocked: run each repair command shown" in capsys.readouterr().out
    complete_invocation(committed_repo, open_op_id)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: ") and "healed in " in out and "blocked" not in out
    assert main(["--allow-healed"]) == 0  # kept for old configurations
