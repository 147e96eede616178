"""The Op commit: made with real git, and never at the expense of the user's work."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kitty_ops.errors import KittyOpsError
from kitty_ops.gitio import git as git_module
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
from kitty_ops.opcommit import commit as commit_module

from .conftest import beside, git, wait_for


def op(repo: Path, **fields) -> str:
    fields.setdefault("profile_id", "implementer")
    fields.setdefault("action", "implement")
    return start_invocation(repo, **fields)["invocation_id"]


def subject(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "log", "-1", "--format=%s", rev)


def configure_hook(repo: Path, tmp_path: Path, script: str) -> Path:
    """A post-completion hook running `script` (sh), named in `git config kitty-ops.postCompleteHook`."""
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\n{script}")
    hook.chmod(0o755)
    git(repo, "config", "kitty-ops.postCompleteHook", str(hook))
    return hook


def complete_by_cli(repo: Path, *args: str) -> tuple[str, subprocess.CompletedProcess]:
    """A new Op, completed by `kitty-ops complete` (with `args`): (its id, what the command did)."""
    op_id = op(repo)
    return op_id, subprocess.run(["kitty-ops", "complete", op_id, *args], cwd=repo, capture_output=True, text=True)


def files_in(repo: Path, rev: str = "HEAD") -> list[str]:
    return git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", rev).splitlines()


def test_t003_completion_commits_the_record_and_grep_finds_only_op_commits(committed_repo):
    first, second = op(committed_repo), op(committed_repo, profile_id="reviewer", action="review")
    complete_invocation(committed_repo, first)
    (committed_repo / "user.txt").write_text("mine\n")
    git(committed_repo, "add", "user.txt")
    git(committed_repo, "commit", "-qm", "user work")
    complete_invocation(committed_repo, second)
    assert git(committed_repo, "log", "--format=%s", "--", "kitty-ops/").splitlines() == [
        f"op(reviewer): review [{second[:8]}]",
        f"op(implementer): implement [{first[:8]}]",
    ]
    assert git(committed_repo, "log", "--format=%s", "--grep=^op(").splitlines() == [
        f"op(reviewer): review [{second[:8]}]",
        f"op(implementer): implement [{first[:8]}]",
    ]


def test_t004_a_committed_record_is_restored_byte_for_byte(committed_repo):
    op_id = op(committed_repo)
    complete_invocation(committed_repo, op_id, artifacts=["a.py"])
    path = committed_repo / "kitty-ops" / f"{op_id}.jsonl"
    before = path.read_bytes()
    git(committed_repo, "clean", "-fdxq", "kitty-ops/")
    path.unlink(missing_ok=True)
    git(committed_repo, "checkout", "--", "kitty-ops/")
    assert path.read_bytes() == before


def test_t005_an_open_op_stays_untracked_and_out_of_history(committed_repo):
    orphan = op(committed_repo)
    for _ in range(3):
        complete_invocation(committed_repo, op(committed_repo))
    assert f"?? kitty-ops/{orphan}.jsonl" in git(committed_repo, "status", "--porcelain", "-uall")
    assert git(committed_repo, "log", "--all", "--format=%H", "--", f"kitty-ops/{orphan}.jsonl") == ""
    assert orphan not in git(committed_repo, "log", "--all", "-p")


def test_t006_the_cli_makes_the_same_commit_as_the_library(committed_repo):
    by_library = op(committed_repo)
    complete_invocation(committed_repo, by_library)
    library_files = files_in(committed_repo)
    by_cli = op(committed_repo)
    result = subprocess.run(["kitty-ops", "complete", by_cli], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert subject(committed_repo) == f"op(implementer): implement [{by_cli[:8]}]"
    assert files_in(committed_repo) == [f"kitty-ops/{by_cli}.jsonl"]
    assert library_files == ["kitty-ops/.gitattributes", f"kitty-ops/{by_library}.jsonl"]


def test_t007_mission_fields_absent_for_a_standalone_op_present_when_passed(committed_repo):
    standalone = op(committed_repo)
    complete_invocation(committed_repo, standalone)
    in_mission = op(committed_repo, mission_id="M1", wp_id="WP02")
    complete_invocation(committed_repo, in_mission)
    first = json.loads(git(committed_repo, "show", f"HEAD~1:kitty-ops/{standalone}.jsonl").splitlines()[0])
    second = json.loads(git(committed_repo, "show", f"HEAD:kitty-ops/{in_mission}.jsonl").splitlines()[0])
    assert "mission_id" not in first and "wp_id" not in first
    assert (second["mission_id"], second["wp_id"]) == ("M1", "WP02")
    assert "kitty-ops/lifecycle.jsonl" in files_in(committed_repo)


def test_the_users_staged_unstaged_and_untracked_work_is_untouched(committed_repo):
    repo = committed_repo
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    (repo / "README.md").write_text("hello\nunstaged edit\n")
    (repo / "untracked.txt").write_text("untracked\n")
    open_op = op(repo)
    status_before = git(repo, "status", "--porcelain", "-uall")
    op_id = op(repo)
    result = complete_invocation(repo, op_id)
    assert result.commit == git(repo, "rev-parse", "HEAD")
    assert files_in(repo) == ["kitty-ops/.gitattributes", f"kitty-ops/{op_id}.jsonl"]
    status_after = git(repo, "status", "--porcelain", "-uall").splitlines()
    assert "A  staged.txt" in status_after
    assert " M README.md" in status_after
    assert "?? untracked.txt" in status_after
    assert f"?? kitty-ops/{open_op}.jsonl" in status_after
    assert not [line for line in status_after if op_id in line or ".gitattributes" in line]
    assert git(repo, "diff", "--cached", "--name-only") == "staged.txt"
    assert (repo / "README.md").read_text() == "hello\nunstaged edit\n"
    assert [line for line in status_before.splitlines() if ".gitattributes" not in line] == status_after
    assert git(repo, "diff-files", "--name-only") == "README.md"


def test_user_hooks_that_reject_everything_do_not_stop_the_op_commit(committed_repo):
    hooks = committed_repo / ".git" / "hooks"
    for name in ("pre-commit", "commit-msg", "prepare-commit-msg"):
        (hooks / name).write_text("#!/bin/sh\necho rejected >&2\nexit 1\n")
        (hooks / name).chmod(0o755)
    op_id = op(committed_repo)
    result = complete_invocation(committed_repo, op_id)
    assert result.commit and result.pending_reason is None
    assert subject(committed_repo) == f"op(implementer): implement [{op_id[:8]}]"


def test_a_signing_failure_leaves_the_record_pending_without_hanging(committed_repo, tmp_path):
    fake_gpg = tmp_path / "gpg"
    fake_gpg.write_text("#!/bin/sh\necho 'gpg: signing failed: no key' >&2\nexit 1\n")
    fake_gpg.chmod(0o755)
    git(committed_repo, "config", "commit.gpgsign", "true")
    git(committed_repo, "config", "gpg.program", str(fake_gpg))
    head = git(committed_repo, "rev-parse", "HEAD")
    op_id = op(committed_repo)
    result = subprocess.run(
        ["kitty-ops", "complete", op_id],
        cwd=committed_repo,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("kitty-ops: WARNING: ")
    assert op_id in warning[0] and "signing" in warning[0] and "kitty-ops commit --pending" in warning[0]
    assert git(committed_repo, "rev-parse", "HEAD") == head
    assert '"completed"' in (committed_repo / "kitty-ops" / f"{op_id}.jsonl").read_text()
    errors = (committed_repo / "kitty-ops" / "propagation-errors.jsonl").read_text().splitlines()
    assert json.loads(errors[-1])["invocation_id"] == op_id


def test_merge_in_progress_leaves_pending_then_commit_pending_after_the_merge(committed_repo):
    repo = committed_repo
    git(repo, "checkout", "-qb", "topic")
    (repo / "README.md").write_text("topic\n")
    git(repo, "commit", "-qam", "topic")
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("main\n")
    git(repo, "commit", "-qam", "main")
    git(repo, "merge", "topic", check=False)
    assert (repo / ".git" / "MERGE_HEAD").exists()
    op_id = op(repo)
    result = complete_invocation(repo, op_id)
    assert result.commit is None and "a merge is in progress" in result.pending_reason
    (repo / "README.md").write_text("merged\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "merge topic", "--no-edit")
    assert op_id not in git(repo, "show", "--stat", "HEAD")
    pending = subprocess.run(["kitty-ops", "commit", "--pending"], cwd=repo, capture_output=True, text=True)
    assert pending.returncode == 0, pending.stderr
    assert subject(repo) == f"op(implementer): implement [{op_id[:8]}]"
    assert git(repo, "status", "--porcelain", "--", "kitty-ops/") == ""


def test_detached_head_leaves_pending(committed_repo):
    git(committed_repo, "checkout", "-q", "--detach")
    head = git(committed_repo, "rev-parse", "HEAD")
    result = complete_invocation(committed_repo, op(committed_repo))
    assert result.commit is None and "HEAD is detached" in result.pending_reason
    assert git(committed_repo, "rev-parse", "HEAD") == head


def test_unborn_head_gets_the_op_commit_as_its_first_commit(repo):
    (repo / "mine.txt").write_text("staged, not committed\n")
    git(repo, "add", "mine.txt")
    op_id = op(repo)
    result = complete_invocation(repo, op_id)
    assert result.commit
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert "mine.txt" not in files_in(repo)
    assert "A  mine.txt" in git(repo, "status", "--porcelain").splitlines()


def test_outside_git_the_record_is_written_and_committing_skipped_with_a_warning(tmp_path):
    started = subprocess.run(
        ["kitty-ops", "start", "--profile", "p", "--action", "a"], cwd=tmp_path, capture_output=True, text=True
    )
    op_id = started.stdout.strip()
    result = subprocess.run(["kitty-ops", "complete", op_id], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert "not in a git repository" in result.stderr and op_id in result.stderr
    assert (tmp_path / "kitty-ops" / f"{op_id}.jsonl").read_text().count('"completed"') == 1


def test_no_commit_skips_the_hook(committed_repo, tmp_path):
    marker = tmp_path / "ran"
    configure_hook(committed_repo, tmp_path, f"touch {marker}\n")
    head = git(committed_repo, "rev-parse", "HEAD")
    op_id, result = complete_by_cli(committed_repo, "--no-commit")
    assert result.returncode == 0 and "not committed (--no-commit)" in result.stdout
    assert not marker.exists()
    assert git(committed_repo, "rev-parse", "HEAD") == head
    assert f"?? kitty-ops/{op_id}.jsonl" in git(committed_repo, "status", "--porcelain", "-uall")


def test_a_custom_hook_gets_the_op_and_the_staged_record(committed_repo, tmp_path, monkeypatch):
    out = tmp_path / "hook.out"
    hook = tmp_path / "hook.sh"
    hook.write_text(
        "#!/bin/sh\n"
        f'echo "$1 $KITTY_OPS_OP_ID $KITTY_OPS_RECORD $KITTY_OPS_REPO" > {out}\n'
        f'git diff --cached --name-only >> {out}\n'
    )
    hook.chmod(0o755)
    monkeypatch.setenv("KITTY_OPS_POST_COMPLETE_HOOK", str(hook))
    head = git(committed_repo, "rev-parse", "HEAD")
    op_id = op(committed_repo)
    result = complete_invocation(committed_repo, op_id)
    assert result.pending_reason is None
    args, *staged = out.read_text().splitlines()
    record = committed_repo / "kitty-ops" / f"{op_id}.jsonl"
    assert args == f"{op_id} {op_id} {record} {committed_repo}"
    assert f"kitty-ops/{op_id}.jsonl" in staged
    assert git(committed_repo, "rev-parse", "HEAD") == head  # the custom hook chose not to commit


def test_a_custom_hook_can_chain_the_default_op_commit(committed_repo, tmp_path):
    configure_hook(committed_repo, tmp_path, 'exec kitty-ops-post-complete "$1"\n')
    op_id, result = complete_by_cli(committed_repo)
    assert result.returncode == 0, result.stderr
    assert subject(committed_repo) == f"op(implementer): implement [{op_id[:8]}]"
    head = git(committed_repo, "rev-parse", "HEAD")
    assert result.stdout.strip() == f"{op_id} done, committed by your post-completion hook ({head[:8]})"


def test_a_custom_hook_that_commits_nothing_says_the_record_was_handed_to_it(committed_repo, tmp_path):
    configure_hook(committed_repo, tmp_path, "exit 0\n")
    op_id, result = complete_by_cli(committed_repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{op_id} done, handed to your post-completion hook (not committed)"


def test_a_failing_hook_is_logged_and_recorded_and_the_completion_stands(committed_repo, tmp_path):
    hook = configure_hook(committed_repo, tmp_path, "echo 'no network' >&2\nexit 3\n")
    op_id, result = complete_by_cli(committed_repo)
    assert result.returncode == 0
    assert "exited 3: no network" in result.stderr
    error = json.loads((committed_repo / "kitty-ops" / "propagation-errors.jsonl").read_text())
    assert error["invocation_id"] == op_id and error["hook"] == str(hook)
    assert "propagation-errors" not in git(committed_repo, "status", "--porcelain", "-uall")


def test_a_held_index_lock_leaves_pending_after_a_bounded_retry(committed_repo, monkeypatch):
    monkeypatch.setattr(commit_module, "INDEX_LOCK_SECONDS", 0.5)
    lock = committed_repo / ".git" / "index.lock"
    lock.write_text("")
    op_id = op(committed_repo)
    started = time.monotonic()
    result = complete_invocation(committed_repo, op_id)
    assert time.monotonic() - started < 20
    assert result.commit is None and "index.lock" in result.pending_reason
    lock.unlink()
    assert commit_module.commit_op(committed_repo, op_id)
    assert subject(committed_repo) == f"op(implementer): implement [{op_id[:8]}]"


def test_orphans_are_never_committed(committed_repo):
    op_id = op(committed_repo)
    with pytest.raises(KittyOpsError, match="not completed"):
        commit_module.commit_op(committed_repo, op_id)
    assert git(committed_repo, "log", "--all", "--format=%s", "--grep=^op(") == ""


def test_committing_again_is_a_no_op(committed_repo):
    op_id = op(committed_repo)
    complete_invocation(committed_repo, op_id)
    head = git(committed_repo, "rev-parse", "HEAD")
    assert commit_module.commit_op(committed_repo, op_id) is None
    assert git(committed_repo, "rev-parse", "HEAD") == head


def test_op_commit_in_a_linked_worktree_lands_on_its_branch(committed_repo, tmp_path):
    worktree = tmp_path / "wt"
    git(committed_repo, "worktree", "add", "-q", "-b", "agent-branch", str(worktree))
    op_id = op(worktree)
    complete_invocation(worktree, op_id)
    assert subject(committed_repo, "agent-branch") == f"op(implementer): implement [{op_id[:8]}]"
    assert subject(committed_repo, "main") == "initial"
    assert git(worktree, "status", "--porcelain") == ""


CONCURRENT = """
import sys
from kitty_ops.lifecycle.executor import complete_invocation
complete_invocation(sys.argv[1], sys.argv[2])
"""


def test_twelve_concurrent_completions_make_twelve_commits(committed_repo):
    ids = [op(committed_repo) for _ in range(12)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(committed_repo), op_id], stderr=subprocess.PIPE, text=True
        )
        for op_id in ids
    ]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert errors == [""] * 12
    subjects = git(committed_repo, "log", "--format=%s", "--grep=^op(").splitlines()
    assert sorted(subjects) == sorted(f"op(implementer): implement [{op_id[:8]}]" for op_id in ids)
    assert not (committed_repo / ".git" / "index.lock").exists()
    assert git(committed_repo, "fsck", "--no-progress") == ""
    assert git(committed_repo, "status", "--porcelain") == ""


def test_op_commits_follow_the_users_signing_policy(committed_repo, tmp_path):
    fake_gpg = tmp_path / "gpg"
    fake_gpg.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        "echo '[GNUPG:] SIG_CREATED D 1 8 00 1 FAKE' >&2\n"
        "printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n'\n"
    )
    fake_gpg.chmod(0o755)
    git(committed_repo, "config", "commit.gpgsign", "true")
    git(committed_repo, "config", "gpg.program", str(fake_gpg))
    result = complete_invocation(committed_repo, op(committed_repo))
    assert result.commit
    assert "gpgsig -----BEGIN PGP SIGNATURE-----" in git(committed_repo, "cat-file", "commit", "HEAD")


def kitty_ops(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["kitty-ops", *args], cwd=repo, capture_output=True, text=True)


def test_commit_by_id_commits_each_named_op(committed_repo):
    first, second = op(committed_repo), op(committed_repo, action="review")
    complete_invocation(committed_repo, first, commit=False)
    complete_invocation(committed_repo, second, commit=False)
    result = kitty_ops(committed_repo, "commit", second, first)
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [[second, "committed"], [first, "committed"]]
    assert git(committed_repo, "log", "--format=%s", "-2").splitlines() == [  # oldest first
        f"op(implementer): review [{second[:8]}]",
        f"op(implementer): implement [{first[:8]}]",
    ]
    again = kitty_ops(committed_repo, "commit", first)
    assert again.returncode == 0 and again.stdout == f"{first} already committed\n"


def test_commit_pending_commits_every_completed_record_one_commit_each(committed_repo):
    done = [op(committed_repo) for _ in range(3)]
    still_open = op(committed_repo)
    for op_id in done:
        complete_invocation(committed_repo, op_id, commit=False)
    result = kitty_ops(committed_repo, "commit", "--pending")
    assert result.returncode == 0, result.stderr
    subjects = git(committed_repo, "log", "--format=%s", "--grep=^op(").splitlines()
    assert sorted(subjects) == sorted(f"op(implementer): implement [{op_id[:8]}]" for op_id in done)
    assert f"?? kitty-ops/{still_open}.jsonl" in git(committed_repo, "status", "--porcelain", "-uall")
    assert kitty_ops(committed_repo, "commit", "--pending").stdout == "nothing pending\n"


def test_commit_refuses_an_open_op_and_reports_one_line(committed_repo):
    still_open = op(committed_repo)
    result = kitty_ops(committed_repo, "commit", still_open)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"kitty-ops: error: {still_open}: not completed; open Ops are never committed"
    ]


def test_commit_without_ids_or_pending_is_a_usage_error(committed_repo):
    result = kitty_ops(committed_repo, "commit")
    assert result.returncode == 2
    assert "name an OP_ID or give --pending" in result.stderr


def test_the_default_hook_script_commits_a_completed_record(committed_repo):
    op_id = op(committed_repo)
    complete_invocation(committed_repo, op_id, commit=False)
    result = subprocess.run(["kitty-ops-post-complete", op_id], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == git(committed_repo, "rev-parse", "HEAD")
    assert subject(committed_repo) == f"op(implementer): implement [{op_id[:8]}]"
    usage = subprocess.run(["kitty-ops-post-complete"], cwd=committed_repo, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: kitty-ops-post-complete OP_ID" in usage.stderr


def test_a_commit_that_cannot_even_start_still_leaves_the_op_completed(committed_repo):
    lock = committed_repo / ".git" / commit_module.COMMIT_LOCK_NAME
    lock.mkdir()  # the lock file cannot be opened
    op_id = op(committed_repo)
    result = kitty_ops(committed_repo, "complete", op_id)
    assert result.returncode == 0
    assert "completed but not committed" in result.stderr and "kitty-ops commit --pending" in result.stderr
    assert '"completed"' in (committed_repo / "kitty-ops" / f"{op_id}.jsonl").read_text()


def test_a_lifecycle_log_that_is_not_a_file_keeps_the_op_pending(committed_repo):
    (committed_repo / "kitty-ops").mkdir()
    (committed_repo / "kitty-ops" / "lifecycle.jsonl").mkdir()
    started = kitty_ops(committed_repo, "start", "--profile", "p", "--action", "a", "--mission-id", "M1")
    assert started.returncode == 0, started.stderr
    op_id = started.stdout.strip()
    completed = kitty_ops(committed_repo, "complete", op_id)
    assert completed.returncode == 0
    assert "kitty-ops/lifecycle.jsonl is a directory; kitty-ops commits nothing next to it" in completed.stderr
    assert git(committed_repo, "log", "-1", "--format=%s") == "initial"


def test_records_whose_stat_data_changed_are_not_taken_for_pending(committed_repo):
    done = [op(committed_repo) for _ in range(3)]
    for op_id in done:
        complete_invocation(committed_repo, op_id)
    for path in (committed_repo / "kitty-ops").glob("01*.jsonl"):
        os.utime(path, ns=(10**18, 10**18))  # a touch, a copy, a restore: git's stat data no longer matches
    assert git(committed_repo, "diff-files", "--name-only").count("kitty-ops/01") == 3
    repo = git_module.find_repo(committed_repo)
    assert commit_module.pending_paths(repo) == []
    assert len(commit_module.pending_paths(repo, every_change=True)) == 3  # doctor still looks at them
    grown = committed_repo / "kitty-ops" / f"{done[0]}.jsonl"
    with grown.open("a") as handle:
        handle.write(json.dumps({"event": "commit_link", "invocation_id": done[0], "at": "2026-12-01T00:00:00+00:00",
                                 "sha": "abc"}) + "\n")
    assert commit_module.pending_paths(repo) == [f"kitty-ops/{grown.name}"]


def _commit_tree_as_git(repo: Path, rev: str) -> str:
    """What `git commit-tree` makes of `rev`'s tree, parent, message, author and dates."""
    fields = git(repo, "log", "-1", "--format=%T%n%P%n%an%n%ae%n%ad%n%cn%n%ce%n%cd", "--date=raw", rev).splitlines()
    tree, parent, author, author_email, author_date, committer, committer_email, committer_date = fields
    message = subprocess.run(["git", "log", "-1", "--format=%B", rev], cwd=repo, capture_output=True,
                             text=True).stdout[:-1]
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": author_email, "GIT_AUTHOR_DATE": author_date,
           "GIT_COMMITTER_NAME": committer, "GIT_COMMITTER_EMAIL": committer_email,
           "GIT_COMMITTER_DATE": committer_date}
    return subprocess.run(["git", "commit-tree", tree, "-p", parent, "-m", message], cwd=repo, env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_op_commit_written_by_kitty_ops_is_byte_for_byte_the_one_git_would_write(committed_repo):
    op_id = op(committed_repo)
    commit = complete_invocation(committed_repo, op_id).commit
    assert commit == git(committed_repo, "rev-parse", "HEAD")
    assert _commit_tree_as_git(committed_repo, "HEAD") == commit
    assert git(committed_repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Test Author <test@example.com>|Test Author <test@example.com>")
    assert git(committed_repo, "fsck", "--strict", "--no-dangling") == ""


def test_identities_and_dates_git_would_treat_specially_are_left_to_git(committed_repo, monkeypatch):
    git(committed_repo, "config", "user.name", "  Ann Example.  ")  # git trims the crud: kitty-ops does not guess
    monkeypatch.setenv("GIT_COMMITTER_DATE", "1700000000 +0200")
    complete_invocation(committed_repo, op(committed_repo))
    assert git(committed_repo, "log", "-1", "--format=%an|%cd", "--date=raw") == "Ann Example|1700000000 +0200"
    assert git(committed_repo, "fsck", "--strict", "--no-dangling") == ""


def test_an_op_commit_on_a_packed_repository_reads_its_trees_from_git(committed_repo):
    first = op(committed_repo)
    complete_invocation(committed_repo, first)
    git(committed_repo, "gc", "-q", "--prune=now")
    assert not [path for path in (committed_repo / ".git" / "objects").glob("??/*")]  # nothing loose
    second = op(committed_repo, action="review")
    complete_invocation(committed_repo, second)
    tracked = git(committed_repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert {f"kitty-ops/{first}.jsonl", f"kitty-ops/{second}.jsonl", "README.md"} <= set(tracked)
    assert files_in(committed_repo) == [f"kitty-ops/{second}.jsonl"]
    assert git(committed_repo, "status", "--porcelain") == ""
    assert git(committed_repo, "fsck", "--strict", "--no-dangling") == ""


def _log_lines(repo: Path, name: str) -> list[str]:
    path = repo / ".git" / "logs" / name
    return path.read_text().splitlines() if path.exists() else []


def test_the_branch_moves_with_the_reflog_lines_git_writes(committed_repo):
    before = git(committed_repo, "rev-parse", "HEAD")
    commit = complete_invocation(committed_repo, op(committed_repo)).commit
    for name in ("HEAD", "refs/heads/main"):
        old, new, rest = _log_lines(committed_repo, name)[-1].split(" ", 2)
        ident, message = rest.split("\t")
        assert (old, new) == (before, commit)
        assert ident.startswith("Test Author <test@example.com> ") and message == f"commit: {subject(committed_repo)}"
    assert git(committed_repo, "reflog", "-1", "--format=%H %gs") == f"{commit} commit: {subject(committed_repo)}"
    assert not (committed_repo / ".git" / "refs" / "heads" / "main.lock").exists()
    assert git(committed_repo, "fsck", "--strict", "--no-dangling") == ""


def test_a_reference_transaction_hook_is_run_by_git_for_the_op_commit(committed_repo, tmp_path):
    seen = tmp_path / "seen"
    hook = committed_repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text(f"#!/bin/sh\necho \"$1\" >> {seen}\n")
    hook.chmod(0o755)
    complete_invocation(committed_repo, op(committed_repo))
    assert seen.read_text().splitlines() == ["prepared", "committed"]


def test_a_branch_lock_held_by_another_command_leaves_the_op_pending_and_the_lock_alone(committed_repo):
    lock = committed_repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("someone else\n")
    head = git(committed_repo, "rev-parse", "HEAD")
    result = complete_invocation(committed_repo, op(committed_repo))
    assert result.commit is None and "refs/heads/main.lock is held by another git command" in result.pending_reason
    assert lock.read_text() == "someone else\n" and git(committed_repo, "rev-parse", "HEAD") == head
    assert git(committed_repo, "status", "--porcelain", "--untracked-files=no") == ""
    lock.unlink()
    pending = subprocess.run(["kitty-ops", "commit", "--pending"], cwd=committed_repo, capture_output=True, text=True)
    assert pending.returncode == 0, pending.stderr
    assert git(committed_repo, "rev-parse", "HEAD") != head


def test_with_reflogs_off_no_new_reflog_is_made(committed_repo):
    git(committed_repo, "config", "core.logAllRefUpdates", "false")
    for name in ("HEAD", "refs/heads/main"):
        (committed_repo / ".git" / "logs" / name).unlink()
    complete_invocation(committed_repo, op(committed_repo))
    assert _log_lines(committed_repo, "HEAD") == [] and _log_lines(committed_repo, "refs/heads/main") == []


def test_a_branch_lock_held_in_short_bursts_is_waited_for_as_git_waits(committed_repo):
    """gc's reflog expiry and pack-refs hold the branch lock for moments; git retries
    for core.filesRefLockTimeout (100 ms), and so does the Op commit."""
    lock = committed_repo / ".git" / "refs" / "heads" / "main.lock"

    def hold_in_bursts(stop) -> None:
        while not stop.is_set():
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                time.sleep(0.001)
                continue
            time.sleep(0.03)
            os.close(fd)
            os.unlink(lock)
            time.sleep(0.02)

    results = beside(hold_in_bursts, lambda: complete_invocation(committed_repo, op(committed_repo)), 10)
    assert [result.pending_reason for result in results] == [None] * 10
    assert all(result.commit for result in results)


def test_a_failing_signer_is_asked_once_per_completion_not_once_per_pending_record(committed_repo, tmp_path):
    """Each completion commits older pending records first; when the signer fails
    (a locked key, a pinentry nobody answers) every one of them would fail the same
    way, each after its own wait: it is asked once, and the cause said once."""
    calls = tmp_path / "signer-calls"
    signer = tmp_path / "signer"
    signer.write_text(f"#!/bin/sh\necho called >> {calls}\necho 'gpg: signing failed: No pinentry' >&2\nexit 2\n")
    signer.chmod(0o755)
    git(committed_repo, "config", "commit.gpgsign", "true")
    git(committed_repo, "config", "gpg.program", str(signer))
    for _ in range(3):
        op_id = op(committed_repo)
        subprocess.run(["kitty-ops", "complete", op_id], cwd=committed_repo, capture_output=True, check=True)
    calls.write_text("")
    last = op(committed_repo)
    result = subprocess.run(["kitty-ops", "complete", last], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == ["called"]
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and "signing the commit failed" in warnings[0], result.stderr
    git(committed_repo, "config", "commit.gpgsign", "false")
    subprocess.run(["kitty-ops", "commit", "--pending"], cwd=committed_repo, capture_output=True, check=True)
    assert git(committed_repo, "status", "--porcelain", "-uall") == ""


@pytest.mark.parametrize("target", ["HEAD", "refs/kitty-ops/records"])
def test_completions_that_wait_for_an_op_commit_land_with_it_in_one_move_of_the_target(committed_repo, target):
    from kitty_ops.system.lock import hold_file

    if target != "HEAD":  # ref mode: git makes the ref's first commit
        git(committed_repo, "config", "kitty-ops.target", "ref")
        complete_invocation(committed_repo, op(committed_repo))
    ops = [op(committed_repo, action=f"a{n}") for n in range(3)]
    reflog_before = len(git(committed_repo, "reflog", "show", target).splitlines())
    with hold_file(str(committed_repo / ".git" / commit_module.COMMIT_LOCK_NAME), 5.0):  # an Op commit under way
        running = [subprocess.Popen(["kitty-ops", "complete", op_id], cwd=committed_repo, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for op_id in ops]
        wait_for(lambda: all('"completed"' in (committed_repo / "kitty-ops" / f"{op_id}.jsonl").read_text()
                             for op_id in ops))
    printed = [process.communicate(timeout=60) for process in running]
    assert all(process.returncode == 0 for process in running), printed
    log = git(committed_repo, "log", "-3", "--format=%(trailers:key=Op-Id,valueonly,separator=) %H", target)
    commits = dict(line.split() for line in log.splitlines())
    for op_id, (out, err) in zip(ops, printed, strict=True):
        assert commits[op_id][:12] in out + err  # each completion names its own Op commit
    if target == "HEAD":
        assert git(committed_repo, "status", "--porcelain") == ""  # the index has them too
    # One completion took the others along: the target moved once for the three Op commits.
    assert len(git(committed_repo, "reflog", "show", target).splitlines()) == reflog_before + 1
    landed = committed_repo / ".git" / "kitty-ops" / "landed"
    assert not landed.exists() or not list(landed.iterdir())
