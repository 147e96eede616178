"""Untrusted repository content: someone else's clone, with hostile files under
`kitty-ops/` committed the way an attacker would (symlinks committed, then
checked out by `git clone`), FIFOs, forged fields, crafted lines. Nothing is
followed, nothing hangs, one bad record spoils nothing else.

The hooks through pre-commit itself: tests/test_precommit_e2e.py."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import kitty_ops
from kitty_ops.errors import InvalidInput
from kitty_ops.format import rules
from kitty_ops.hooks import orphans, validate
from kitty_ops.lifecycle.executor import complete_invocation

from .conftest import git, hand_written_op, open_op, record

SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- secret\n"
BASHRC = "# the user's shell\n"
FORGED = "x\n\nSigned-off-by: Mallory <mallory@example.com>"
LINKS = {  # committed symlinks, relative to kitty-ops/ in a clone at ~/clone
    ".gitattributes": "../../.ssh/id_ed25519",
    "lifecycle.jsonl": "../../.ssh/id_ed25519",
    "ops-index.jsonl": "../../.bashrc",
    "propagation-errors.jsonl": "../../.bashrc",
    "01KTK4DFAS04MCX5GP1W2R6NEP.jsonl": "../../.ssh/id_ed25519",
}


def kitty_ops_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed console script; the timeout only turns a hang into a failure."""
    return subprocess.run(
        ["kitty-ops", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


@pytest.fixture
def home(isolated_git) -> Path:
    """The user's home with a private key and a shell profile worth stealing or poisoning."""
    (isolated_git / ".ssh").mkdir(exist_ok=True)
    (isolated_git / ".ssh" / "id_ed25519").write_text(SECRET)
    (isolated_git / ".bashrc").write_text(BASHRC)
    return isolated_git


def untouched(home: Path) -> bool:
    return (home / ".ssh" / "id_ed25519").read_text() == SECRET and (home / ".bashrc").read_text() == BASHRC


def clone_of(home: Path, tmp_path: Path, links: dict[str, str], monkeypatch) -> Path:
    """A repository whose `kitty-ops/` holds the committed symlinks `links`
    (name -> target), cloned to ~/clone, the current directory."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q")
    (upstream / "README.md").write_text("hello\n")
    for name, target in links.items():
        path = upstream / name if name == "kitty-ops" else upstream / "kitty-ops" / name
        path.parent.mkdir(exist_ok=True)
        path.symlink_to(target)
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "a friendly contribution")
    git(tmp_path, "clone", "-q", str(upstream), str(home / "clone"))
    clone = home / "clone"
    monkeypatch.chdir(clone)
    return clone


@pytest.mark.parametrize("name", sorted(LINKS))
def test_a_committed_symlink_is_invalid_to_doctor_and_validate(home, tmp_path, monkeypatch, name):
    clone = clone_of(home, tmp_path, {name: LINKS[name]}, monkeypatch)
    assert (clone / "kitty-ops" / name).is_symlink()  # checked out as a link, the way git does
    doctor = kitty_ops_cli("doctor", "ops", "--json", cwd=clone)
    assert doctor.returncode == 1, doctor.stderr
    invalid = json.loads(doctor.stdout)["invalid"]
    assert [entry["path"] for entry in invalid] == [f"kitty-ops/{name}"]
    assert invalid[0]["error"].startswith("is a symbolic link; ")
    checked = kitty_ops_cli("validate", cwd=clone)
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[0] == (
        f"kitty-ops/{name}: in the work tree as a symbolic link; kitty-ops never reads or commits through links"
        f" or special files: git rm --cached kitty-ops/{name}, and keep a regular file there"
    )
    for result in (doctor, checked):
        assert "PRIVATE KEY" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert untouched(home)


def test_start_and_reindex_never_append_through_a_symlinked_index(home, tmp_path, monkeypatch):
    clone = clone_of(home, tmp_path, {"ops-index.jsonl": "../../.bashrc"}, monkeypatch)
    started = kitty_ops_cli("start", "--profile", "p", "--action", "a", "--mission-id", "$(touch PWNED)", cwd=clone)
    assert started.returncode == 0, started.stderr
    assert "did not update the index: kitty-ops/ops-index.jsonl is a symbolic link" in started.stderr
    reindexed = kitty_ops_cli("reindex", cwd=clone)
    assert reindexed.returncode == 0, reindexed.stderr
    assert reindexed.stdout == "indexed 1 Ops in kitty-ops/ops-index.jsonl\n"
    index = clone / "kitty-ops" / "ops-index.jsonl"
    assert not index.is_symlink()  # the link itself was replaced, its target left alone
    assert json.loads(index.read_text())["invocation_id"] == started.stdout.strip()
    assert untouched(home)


def test_reindex_refuses_a_symlinked_kitty_ops_directory(home, tmp_path, monkeypatch):
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    clone = clone_of(home, tmp_path, {"kitty-ops": "../elsewhere"}, monkeypatch)
    result = kitty_ops_cli("reindex", cwd=clone)
    assert result.returncode == 2
    assert result.stderr == "kitty-ops: error: kitty-ops/ is a symbolic link; kitty-ops does not work through it\n"
    assert list(elsewhere.iterdir()) == []
    doctor = kitty_ops_cli("doctor", "ops", "--json", cwd=clone)
    assert json.loads(doctor.stdout)["invalid"] == [
        {"path": "kitty-ops/", "error": "is a symbolic link; kitty-ops does not work through it"}
    ]
    assert kitty_ops_cli("validate", cwd=clone).returncode == 1


def test_the_validate_hook_blocks_a_staged_symlinked_directory(home, committed_repo, capsys):
    (committed_repo / "kitty-ops").symlink_to(home / ".ssh")
    git(committed_repo, "add", "kitty-ops")
    assert validate.main(["kitty-ops"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "kitty-ops: staged as a symbolic link; kitty-ops never reads or commits through links or special files:"
        " git rm --cached kitty-ops, and keep a regular file there"
    )


def test_a_hostile_id_is_shown_short_and_escaped(committed_repo):
    hostile = "\x1b[2J" + "x" * 10_000
    op_id = hand_written_op(committed_repo, invocation_id=hostile)
    result = kitty_ops_cli("validate", cwd=committed_repo)
    assert result.stdout.splitlines()[:2] == [
        f"kitty-ops/{op_id}.jsonl: line 1: invocation_id: must be an Op id (a 26-character ULID)",
        f"kitty-ops/{op_id}.jsonl: line 1: invocation_id {rules.shown(hostile)} does not match the file name {op_id}",
    ]
    assert len(rules.shown(hostile)) == 40 and "\x1b" not in result.stdout


def test_a_failed_delivery_is_never_logged_through_a_symlink(home, tmp_path, monkeypatch):
    clone = clone_of(home, tmp_path, {"propagation-errors.jsonl": "../../.bashrc"}, monkeypatch)
    op_id = kitty_ops_cli("start", "--profile", "p", "--action", "a", cwd=clone).stdout.strip()
    result = kitty_ops_cli("complete", op_id, cwd=clone, env={"KITTY_OPS_POST_COMPLETE_HOOK": "false"})
    assert result.returncode == 0, result.stderr
    assert "did not log the failure: kitty-ops/propagation-errors.jsonl is a symbolic link" in result.stderr
    assert untouched(home)


def test_a_fifo_named_like_a_record_is_invalid_and_hangs_nothing(committed_repo):
    healthy = open_op(committed_repo, hours_ago=1)
    fifo = record(committed_repo, "01KTK4DFAS04MCX5GP1W2R6NEP")
    os.mkfifo(fifo)
    doctor = kitty_ops_cli("doctor", "ops", "--json", cwd=committed_repo)
    report = json.loads(doctor.stdout)
    assert report["invalid"] == [
        {"path": "kitty-ops/01KTK4DFAS04MCX5GP1W2R6NEP.jsonl", "error": "is a FIFO; kitty-ops opens regular files only"}
    ]
    assert [entry["invocation_id"] for entry in report["orphans"]] == [healthy]
    checked = kitty_ops_cli("validate", cwd=committed_repo)
    assert checked.returncode == 1
    assert "kitty-ops/01KTK4DFAS04MCX5GP1W2R6NEP.jsonl: in the work tree as a FIFO; " in checked.stdout
    reindexed = kitty_ops_cli("reindex", cwd=committed_repo)
    assert (reindexed.returncode, reindexed.stdout) == (0, "indexed 2 Ops in kitty-ops/ops-index.jsonl\n")
    listed = json.loads(kitty_ops_cli("list", "--json", cwd=committed_repo).stdout)
    assert [(op["invocation_id"], op["status"]) for op in listed] == [
        (healthy, "open"), ("01KTK4DFAS04MCX5GP1W2R6NEP", "invalid")
    ]
    shown = kitty_ops_cli("show", "01KTK4DFAS04MCX5GP1W2R6NEP", cwd=committed_repo)
    assert "[invalid]" in shown.stdout and "problem: is a FIFO; kitty-ops opens regular files only" in shown.stdout
    assert orphans.main([]) == 0


def test_a_forged_trailer_in_a_profile_never_passes(committed_repo, capsys):
    op_id = hand_written_op(committed_repo, profile_id=FORGED)
    path = f"kitty-ops/{op_id}.jsonl"
    checked = kitty_ops_cli("validate", cwd=committed_repo)
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[0] == (
        f"{path}: line 1: profile_id: must be one word of printable ASCII:"
        " no spaces, newlines, control characters or ()[]"
    )
    shown = json.loads(kitty_ops_cli("show", op_id, "--json", cwd=committed_repo).stdout)
    assert shown["status"] == "invalid"
    doctor = json.loads(kitty_ops_cli("doctor", "ops", "--json", cwd=committed_repo).stdout)
    assert [entry["path"] for entry in doctor["invalid"]] == [path] and doctor["orphans"] == []
    git(committed_repo, "add", path)
    assert validate.main([path]) == 1
    assert orphans.main([]) == 1
    out = capsys.readouterr().out
    assert "Signed-off-by" not in out and "profile_id: must be one word" in out
    kitty_ops_cli("complete", op_id, cwd=committed_repo)
    assert "Signed-off-by" not in git(committed_repo, "log", "--all", "--format=%B")


def test_duplicate_keys_are_invalid(committed_repo):
    op_id = open_op(committed_repo)
    path = record(committed_repo, op_id)
    path.write_text(path.read_text().replace('"profile_id": "implementer"', '"profile_id": "a", "profile_id": "b"'))
    result = kitty_ops_cli("validate", "--json", cwd=committed_repo)
    assert result.returncode == 1
    assert json.loads(result.stdout)["invalid"] == [
        {"path": f"kitty-ops/{op_id}.jsonl", "error": "line 1: not valid JSON: duplicate key 'profile_id'"}
    ]


def crafted(repo: Path, extra: bytes) -> str:
    """An Op completed by a hand-written line that also carries `extra`; its id."""
    op_id = open_op(repo)
    line = (
        f'{{"event": "completed", "invocation_id": "{op_id}", "completed_at": "2026-11-24T01:00:00+00:00",'
        f' "outcome": "done", "closed_by": "agent", '
    ).encode() + extra + b"}\n"
    with record(repo, op_id).open("ab") as handle:
        handle.write(line)
    return op_id


def test_one_crafted_line_spoils_nothing_else(committed_repo, capsys):
    first = open_op(committed_repo)
    complete_invocation(committed_repo, first, commit=False)
    deep = crafted(committed_repo, b'"v": ' + b"[" * 1000 + b"]" * 1000)
    escaped_nul = crafted(committed_repo, b'"evidence_ref": "a\\u0000b"')
    raw_nul = crafted(committed_repo, b'"evidence_ref": "a\x00b"')
    last = open_op(committed_repo)
    complete_invocation(committed_repo, last, commit=False)
    bad = {deep, escaped_nul, raw_nul}

    assert orphans.main([]) == 0
    git(committed_repo, "add", "kitty-ops")
    assert validate.main([f"kitty-ops/{op_id}.jsonl" for op_id in (first, deep, escaped_nul, raw_nul, last)]) == 1
    out = capsys.readouterr().out
    assert f"kitty-ops/{deep}.jsonl: line 2: nested more than 32 levels deep" in out
    assert f"kitty-ops/{escaped_nul}.jsonl: line 2: evidence_ref: must not contain a NUL character" in out
    assert f"kitty-ops/{raw_nul}.jsonl: line 2: not valid JSON" in out
    git(committed_repo, "reset", "-q")

    doctor = json.loads(kitty_ops_cli("doctor", "ops", "--json", cwd=committed_repo).stdout)
    assert {entry["path"] for entry in doctor["invalid"]} == {f"kitty-ops/{op_id}.jsonl" for op_id in bad}
    assert [entry["invocation_id"] for entry in doctor["pending"]] == [first, last]
    listed = json.loads(kitty_ops_cli("list", "--json", cwd=committed_repo).stdout)
    assert {op["invocation_id"]: op["status"] for op in listed} == {
        first: "done", last: "done", **{op_id: "invalid" for op_id in bad}
    }
    assert json.loads(kitty_ops_cli("show", deep, "--json", cwd=committed_repo).stdout)["status"] == "invalid"
    assert kitty_ops_cli("reindex", cwd=committed_repo).stdout == "indexed 5 Ops in kitty-ops/ops-index.jsonl\n"
    relisted = json.loads(kitty_ops_cli("list", "--json", cwd=committed_repo).stdout)  # now from the index
    assert {op["invocation_id"]: op["status"] for op in relisted} == {
        op["invocation_id"]: op["status"] for op in listed
    }
    pending = kitty_ops_cli("commit", "--pending", cwd=committed_repo)
    assert pending.returncode == 1  # the valid ones are committed, each invalid one is reported
    assert git(committed_repo, "log", "--format=%s", "--grep=^op(").splitlines() == [
        f"op(implementer): implement [{last[:8]}]", f"op(implementer): implement [{first[:8]}]"
    ]
    assert sorted(pending.stderr.splitlines()) == sorted(
        f"kitty-ops: error: {op_id}: kitty-ops/{op_id}.jsonl is invalid and is never committed ({problem})"
        for op_id, problem in (
            (deep, "line 2: nested more than 32 levels deep"),
            (escaped_nul, "line 2: evidence_ref: must not contain a NUL character"),
            (raw_nul, "line 2: not valid JSON"),
        )
    )


def test_a_nan_confidence_is_refused_before_anything_is_written(committed_repo):
    with pytest.raises(InvalidInput, match=r"^router_confidence: must be a string or a finite number$"):
        kitty_ops.start("p", "a", repo=committed_repo, router_confidence=float("nan"))
    assert list(committed_repo.glob("kitty-ops/01*.jsonl")) == []


@pytest.mark.parametrize("name", [".gitattributes", "lifecycle.jsonl"])
def test_an_op_commit_never_carries_what_a_committed_symlink_points_at(home, tmp_path, monkeypatch, name):
    clone = clone_of(home, tmp_path, {name: LINKS[name]}, monkeypatch)
    op_id = kitty_ops_cli("start", "--profile", "p", "--action", "a", "--mission-id", "M1", cwd=clone).stdout.strip()
    completed = kitty_ops_cli("complete", op_id, cwd=clone)
    assert completed.returncode == 0, completed.stderr  # completed, left pending, with the reason
    assert f"kitty-ops/{name} is a symbolic link" in completed.stdout and "Traceback" not in completed.stderr
    history = git(clone, "log", "--all", "-p", "--format=%B")
    assert "PRIVATE KEY" not in history
    assert git(clone, "ls-files", "-s", f"kitty-ops/{name}").startswith("120000 ")  # still the link, never its target
    assert untouched(home)
