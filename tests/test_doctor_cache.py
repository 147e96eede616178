"""doctor's cache of committed records known good: it saves reading them, and
never hides a record that changed, however it changed."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

from kitty_ops.doctor.cache import CACHE_NAME
from kitty_ops.doctor.ops import doctor_report, list_orphan_ops
from kitty_ops.lifecycle.executor import complete_invocation

from .conftest import git, kitty_ops_process, open_op, record

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def committed_op(repo) -> str:
    op_id = open_op(repo)
    complete_invocation(repo, op_id)
    return op_id


def cache_file(repo):
    return repo / ".git" / CACHE_NAME


def orphan_ids(repo) -> list[str]:
    return [entry["invocation_id"] for entry in doctor_report(repo)["orphans"]]


def test_a_record_rewritten_in_a_commit_behind_the_cache_is_read_again(committed_repo):
    op_id, _ = committed_op(committed_repo), committed_op(committed_repo)
    assert orphan_ids(committed_repo) == [] and cache_file(committed_repo).exists()
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().splitlines()[0] + "\n")  # its completed line taken out
    git(committed_repo, "commit", "-qam", "rewrite a record", "--no-verify")
    assert orphan_ids(committed_repo) == [op_id]
    assert [str(found) for found in list_orphan_ops(committed_repo)] == [str(path)]
    git(committed_repo, "reset", "-q", "--hard", "HEAD~1")  # HEAD moves back: the record is whole again
    assert orphan_ids(committed_repo) == []


def test_a_committed_record_made_invalid_in_the_work_tree_is_reported(committed_repo):
    op_id, _ = committed_op(committed_repo), committed_op(committed_repo)
    assert doctor_report(committed_repo)["invalid"] == []
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().replace('"outcome": "done"', '"outcome": "gone"'))  # same size, at once
    assert doctor_report(committed_repo)["invalid"] == [
        {"path": f"kitty-ops/{op_id}.jsonl", "error": "line 2: outcome: must be one of done, failed, abandoned"}
    ]


def test_a_committed_record_made_open_and_staged_is_reported(committed_repo):
    op_id = committed_op(committed_repo)
    assert orphan_ids(committed_repo) == []
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().splitlines()[0] + "\n")
    git(committed_repo, "add", str(path))
    assert orphan_ids(committed_repo) == [op_id]


def test_a_committed_record_replaced_by_a_link_or_a_fifo_is_reported(committed_repo):
    linked, piped = committed_op(committed_repo), committed_op(committed_repo)
    assert doctor_report(committed_repo)["invalid"] == []
    record(committed_repo, linked).unlink()
    os.symlink("/etc/hostname", record(committed_repo, linked))
    record(committed_repo, piped).unlink()
    os.mkfifo(record(committed_repo, piped))
    paths = [entry["path"] for entry in doctor_report(committed_repo)["invalid"]]
    assert paths == sorted([f"kitty-ops/{linked}.jsonl", f"kitty-ops/{piped}.jsonl"])


def test_a_record_taken_out_of_the_index_and_made_open_is_reported(committed_repo):
    op_id = committed_op(committed_repo)
    assert orphan_ids(committed_repo) == []
    git(committed_repo, "rm", "-q", "--cached", f"kitty-ops/{op_id}.jsonl")
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert orphan_ids(committed_repo) == [op_id]


def test_the_report_is_the_same_with_the_cache_without_it_and_with_a_damaged_one(committed_repo):
    for _ in range(3):
        committed_op(committed_repo)
    open_op(committed_repo, hours_ago=30)
    pending = open_op(committed_repo)
    complete_invocation(committed_repo, pending, commit=False)
    record(committed_repo, open_op(committed_repo)).write_text("garbage\n")
    first = doctor_report(committed_repo, NOW)  # no cache yet: everything read
    assert doctor_report(committed_repo, NOW) == first  # with the cache
    cache_file(committed_repo).write_bytes(b"\xff not a cache\n")
    assert doctor_report(committed_repo, NOW) == first
    assert len(first["orphans"]) == 1 and len(first["pending"]) == 1 and len(first["invalid"]) == 1


def test_a_cache_claiming_an_untracked_orphan_good_hides_nothing(committed_repo):
    committed_op(committed_repo)
    doctor_report(committed_repo)
    lines = cache_file(committed_repo).read_text().splitlines()
    orphan = open_op(committed_repo)
    lines.insert(2, f"{orphan}.jsonl")  # for the right tree: git reports the orphan untracked
    cache_file(committed_repo).write_text("\n".join(lines) + "\n")
    assert orphan_ids(committed_repo) == [orphan]
    lines[1] = "0" * len(lines[1])  # for another tree: nothing in it is trusted
    cache_file(committed_repo).write_text("\n".join(lines) + "\n")
    assert orphan_ids(committed_repo) == [orphan]


def test_the_cache_stays_out_of_the_work_tree_and_of_history(committed_repo):
    committed_op(committed_repo)
    before = git(committed_repo, "status", "--porcelain", "--untracked-files=all")
    result = kitty_ops_process("doctor", "ops", "--json", cwd=committed_repo)
    assert result.returncode == 0 and json.loads(result.stdout)["orphans"] == []
    assert git(committed_repo, "status", "--porcelain", "--untracked-files=all") == before
    assert cache_file(committed_repo).exists()


def test_an_open_record_changed_after_a_run_is_read_again_even_at_the_same_size_and_mtime(committed_repo):
    op_id = open_op(committed_repo, hours_ago=1)
    path = record(committed_repo, op_id)
    moment = time.time() - 3600
    os.utime(path, (moment, moment))  # quiet for an hour: what it says is remembered
    assert orphan_ids(committed_repo) == [op_id]
    mtime = path.stat().st_mtime_ns
    path.write_text(path.read_text().replace('"profile_id": "implementer"', '"profile_id": "implemente!"'))
    os.utime(path, ns=(mtime, mtime))  # only the ctime tells
    [entry] = doctor_report(committed_repo)["orphans"]
    assert entry["profile_id"] == "implemente!"
    complete_invocation(committed_repo, op_id, commit=False)
    os.utime(path, (moment, moment))
    assert orphan_ids(committed_repo) == [] and doctor_report(committed_repo)["pending"][0]["invocation_id"] == op_id


def settle(repo) -> None:
    """A person's commit (it leaves the index's cache tree whole), and `kitty-ops/`
    dated back, as a directory untouched for a while is: its listing is then
    remembered (`kitty_ops.store.untracked`)."""
    notes = repo / "notes.txt"
    notes.write_text(notes.read_text() + "more\n" if notes.exists() else "notes\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-qm", "a person's work", "--no-verify")
    past = time.time() - 60
    os.utime(repo / "kitty-ops", (past, past))


def no_listing(root):
    raise AssertionError("kitty-ops/ listed again")


def test_once_the_directory_is_listed_doctor_finds_everything_without_listing_it(committed_repo, monkeypatch):
    changed, _ = committed_op(committed_repo), committed_op(committed_repo)
    orphan = open_op(committed_repo)
    pending = open_op(committed_repo)
    complete_invocation(committed_repo, pending, commit=False)
    settle(committed_repo)
    first = doctor_report(committed_repo)
    path = record(committed_repo, changed)
    path.write_text(path.read_text().replace('"outcome": "done"', '"outcome": "gone"'))  # the directory stays as it was

    from kitty_ops.doctor import ops

    monkeypatch.setattr(ops, "_names", no_listing)
    second = doctor_report(committed_repo)
    assert [entry["invocation_id"] for entry in first["orphans"]] == [orphan]
    assert [entry["invocation_id"] for entry in second["orphans"]] == [orphan]
    assert [entry["invocation_id"] for entry in second["pending"]] == [pending] == \
        [entry["invocation_id"] for entry in first["pending"]]
    assert first["invalid"] == []
    assert second["invalid"] == [
        {"path": f"kitty-ops/{changed}.jsonl", "error": "line 2: outcome: must be one of done, failed, abandoned"}]


def test_a_record_added_after_the_listing_is_found(committed_repo):
    committed_op(committed_repo)
    settle(committed_repo)
    assert orphan_ids(committed_repo) == []
    orphan = open_op(committed_repo)  # the directory changes: it is listed again
    assert orphan_ids(committed_repo) == [orphan]


def test_after_an_op_commit_the_remembered_listing_follows_head(committed_repo, monkeypatch):
    committed_op(committed_repo)
    orphan = open_op(committed_repo)
    done = open_op(committed_repo)
    settle(committed_repo)
    assert orphan_ids(committed_repo) == sorted([orphan, done])
    complete_invocation(committed_repo, done)  # HEAD gains its record; the directory's names stay

    from kitty_ops.doctor import ops

    monkeypatch.setattr(ops, "_names", no_listing)
    assert orphan_ids(committed_repo) == [orphan]
    assert doctor_report(committed_repo)["pending"] == []


def test_a_committed_record_deleted_from_the_work_tree_is_not_reported_invalid(committed_repo):
    gone = committed_op(committed_repo)
    settle(committed_repo)
    assert doctor_report(committed_repo)["invalid"] == []
    record(committed_repo, gone).unlink()
    assert doctor_report(committed_repo) == {"orphans": [], "pending": [], "invalid": []}
