"""The repository-shape matrix: every shape of repository git supports, times
what kitty-ops does there, each outcome checked with git itself.

A shape is a real repository made by git (`SHAPES`); where git can commit in
it, the Op is committed by its own completion, and everything kitty-ops wrote
is what git would have written (`git fsck --strict`, the permissions of the
object store, the person's status and next commit). Where git cannot (a
rejecting hook, a failing signer, a detached HEAD), the Op is pending with one
line, and `kitty-ops commit --pending` commits it once the cause is gone.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import git

PROFILE, ACTION = "implementer", "implement"
STALE_STARTED_AT = "2026-01-01T00:00:00+00:00"


@dataclass
class Shape:
    """A repository made as the shape says: where the person and the agent work."""

    work: Path
    env: dict[str, str] = field(default_factory=dict)  # added to every process's environment
    git_args: list[str] = field(default_factory=list)  # the person's own `git <args> commit`
    blocked_by: str | None = None  # why git itself cannot commit here (a word of the one line)
    unblock: Callable[[], None] | None = None  # removes that cause
    blocks_person: bool = False  # the cause stops the person's own commits too
    shallow: bool = False

    def run(self, *args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        result = subprocess.run([sys.executable, "-m", "kitty_ops", *args], cwd=cwd or self.work, env=env,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"kitty-ops {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def git(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["git", *args], cwd=self.work, env={**os.environ, **self.env},
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
        return result.stdout.rstrip("\n")


def _init(path: Path, *args: str) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", *args, str(path)], check=True)
    return path


def _first_commit(repo: Path) -> Path:
    (repo / "README.md").write_text("hello\n")
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("print('app')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def _origin(tmp: Path) -> Path:
    """A repository to clone from: some history, with Op records under kitty-ops/
    and a larger file outside it."""
    origin = _first_commit(_init(tmp / "origin"))
    git(origin, "config", "uploadpack.allowFilter", "true")
    (origin / "big.bin").write_bytes(os.urandom(64 * 1024))
    git(origin, "add", "big.bin")
    git(origin, "commit", "-qm", "a large file")
    for number in range(3):
        result = subprocess.run([sys.executable, "-m", "kitty_ops", "run", "--profile", PROFILE, "--action",
                                 f"step{number}", "--", "true"], cwd=origin, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        (origin / "big.bin").write_bytes(os.urandom(64 * 1024))
        git(origin, "commit", "-qam", f"work {number}")
    return origin


def plain(tmp: Path) -> Shape:
    return Shape(_first_commit(_init(tmp / "repo")))


def sha256(tmp: Path) -> Shape:
    return Shape(_first_commit(_init(tmp / "repo", "--object-format=sha256")))


def _on_branch(tmp: Path, branch: str) -> Path:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "checkout", "-q", "-b", branch)
    (repo / "notes.txt").write_text("on a branch\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-qm", "branch work")
    return repo


def slash_branch_packed(tmp: Path) -> Shape:
    repo = _on_branch(tmp, "agent/one")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "agent").exists()
    return Shape(repo)


def slash_branch_after_gc(tmp: Path) -> Shape:
    repo = _on_branch(tmp, "feature/login")
    git(repo, "gc", "-q")
    assert not (repo / ".git" / "refs" / "heads" / "feature" / "login").exists()
    return Shape(repo)


def linked_worktree(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "worktree", "add", "-q", "-b", "agent/wt", str(tmp / "wt"))
    return Shape(tmp / "wt")


def submodule(tmp: Path) -> Shape:
    sub = _first_commit(_init(tmp / "sub"))
    parent = _first_commit(_init(tmp / "repo"))
    git(parent, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "sub")
    git(parent, "commit", "-qm", "a submodule")
    return Shape(parent / "sub")


def sparse_cone(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "sparse-checkout", "set", "--cone", "src")
    return Shape(repo)


def sparse_index(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    (repo / "docs").mkdir()
    (repo / "docs" / "guide.md").write_text("guide\n")
    git(repo, "add", "docs")
    git(repo, "commit", "-qm", "docs")
    git(repo, "sparse-checkout", "set", "--cone", "--sparse-index", "src")
    return Shape(repo)


def split_index(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "config", "core.splitIndex", "true")
    git(repo, "update-index", "--split-index")
    return Shape(repo)


def index_v4(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "update-index", "--index-version", "4")
    return Shape(repo)


def untracked_cache(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "config", "core.untrackedCache", "true")
    git(repo, "update-index", "--untracked-cache")
    git(repo, "status", "--porcelain")
    return Shape(repo)


def many_files(tmp: Path) -> Shape:
    repo = _init(tmp / "repo")
    git(repo, "config", "feature.manyFiles", "true")
    _first_commit(repo)
    git(repo, "status", "--porcelain")
    return Shape(repo)


def shared_group(tmp: Path) -> Shape:
    return Shape(_first_commit(_init(tmp / "repo", "--shared=group")))


def hooks_path(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    (repo / ".githooks").mkdir()
    git(repo, "config", "core.hooksPath", ".githooks")
    return Shape(repo)


def rejecting_reference_transaction(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    hook = repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text('#!/bin/sh\n[ "$1" = prepared ] && { echo "refs are frozen" >&2; exit 1; }\nexit 0\n')
    hook.chmod(0o755)
    return Shape(repo, blocked_by="aborted by hook", unblock=hook.unlink, blocks_person=True)


def failing_signer(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    signer = tmp / "signer"
    signer.write_text("#!/bin/sh\necho 'no secret key' >&2\nexit 1\n")
    signer.chmod(0o755)
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.program", str(signer))
    return Shape(repo, blocked_by="sign", unblock=lambda: git(repo, "config", "commit.gpgsign", "false"),
                 blocks_person=True)


def unborn(tmp: Path) -> Shape:
    return Shape(_init(tmp / "repo"))


def detached(tmp: Path) -> Shape:
    repo = _first_commit(_init(tmp / "repo"))
    git(repo, "checkout", "-q", "--detach")
    return Shape(repo, blocked_by="detached", unblock=lambda: git(repo, "checkout", "-q", "main"))


def blobless_clone_remote_gone(tmp: Path) -> Shape:
    origin = _origin(tmp)
    clone = tmp / "clone"
    git(tmp, "clone", "-q", "--filter=blob:none", "--no-local", f"file://{origin}", str(clone))
    shutil.rmtree(origin)
    return Shape(clone)


def shallow_clone(tmp: Path) -> Shape:
    origin = _origin(tmp)
    clone = tmp / "clone"
    git(tmp, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    return Shape(clone, shallow=True)


def reftable(tmp: Path) -> Shape:
    made = subprocess.run(["git", "init", "-q", "-b", "main", "--ref-format=reftable", str(tmp / "repo")],
                          capture_output=True, text=True)
    if made.returncode != 0:
        version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
        pytest.skip(f"{version} has no reftable (git 2.45 and later): {made.stderr.strip().splitlines()[0]}")
    return Shape(_first_commit(tmp / "repo"))


def hook_environment(tmp: Path) -> Shape:
    """Run with what git exports to its hooks, from a subdirectory."""
    repo = _first_commit(_init(tmp / "repo"))
    git_dir = repo / ".git"
    env = {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(repo), "GIT_INDEX_FILE": str(git_dir / "index")}
    shape = Shape(repo / "src", env=env, blocked_by="inside a running git command")
    shape.unblock = shape.env.clear  # the git command has ended
    return shape


def _pathspec_variable(name: str, flag: str) -> Callable[[Path], Shape]:
    def shape(tmp: Path) -> Shape:
        return Shape(_first_commit(_init(tmp / "repo")), env={name: "1"}, git_args=[flag])

    shape.__name__ = name.lower()
    return shape


SHAPES = [
    plain, sha256, slash_branch_packed, slash_branch_after_gc, linked_worktree, submodule, sparse_cone,
    sparse_index, split_index, index_v4, untracked_cache, many_files, shared_group, hooks_path,
    rejecting_reference_transaction, failing_signer, unborn, detached, blobless_clone_remote_gone,
    shallow_clone, reftable, hook_environment,
    _pathspec_variable("GIT_LITERAL_PATHSPECS", "--literal-pathspecs"),
    _pathspec_variable("GIT_GLOB_PATHSPECS", "--glob-pathspecs"),
    _pathspec_variable("GIT_ICASE_PATHSPECS", "--icase-pathspecs"),
    _pathspec_variable("GIT_NOGLOB_PATHSPECS", "--noglob-pathspecs"),
]


@pytest.fixture(params=SHAPES, ids=[shape.__name__ for shape in SHAPES])
def shape(request, tmp_path) -> Shape:
    return request.param(tmp_path)


# What git says of the repository, for the checks.

def top(shape: Shape) -> Path:
    return Path(shape.git("rev-parse", "--show-toplevel"))


def git_path(shape: Shape, name: str) -> Path:
    return Path(shape.git("rev-parse", "--path-format=absolute", "--git-path", name))


def subjects(shape: Shape, ref: str = "HEAD") -> list[str]:
    return shape.git("log", "--format=%s", ref, "--").splitlines()


def assert_fsck_clean(shape: Shape) -> None:
    if shape.git("config", "--bool", "index.sparse", check=False) == "true":
        # git 2.39's fsck reports "missing tree" for the cache tree of a sparse index
        # that git itself wrote (`git add --sparse`, then fsck), and writes the trees:
        # the run that counts is the second.
        subprocess.run(["git", "fsck", "--no-progress"], cwd=shape.work, env={**os.environ, **shape.env},
                       capture_output=True)
    result = subprocess.run(["git", "fsck", "--strict", "--no-progress", "--no-dangling"], cwd=shape.work,
                            env={**os.environ, **shape.env}, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def assert_object_store_as_git_makes_it(shape: Shape) -> None:
    """Every directory of the object store has the mode git gave `objects/info`,
    and every loose object file the mode of the one git wrote for the first commit."""
    objects = Path(shape.git("rev-parse", "--path-format=absolute", "--git-common-dir")) / "objects"
    if shape.git("rev-parse", "--git-dir") != shape.git("rev-parse", "--git-common-dir"):
        pass  # a linked worktree shares the main repository's store
    directory_mode = stat.S_IMODE((objects / "info").stat().st_mode)
    file_modes = set()
    for directory in objects.iterdir():
        if len(directory.name) != 2:
            continue
        assert stat.S_IMODE(directory.stat().st_mode) == directory_mode, (directory, oct(directory.stat().st_mode))
        file_modes |= {stat.S_IMODE(path.stat().st_mode) for path in directory.iterdir()}
    assert len(file_modes) <= 1, [oct(mode) for mode in file_modes]


def person_stages_work(shape: Shape) -> None:
    """The person's own work: a staged new file and an unstaged edit."""
    (shape.work / "person.txt").write_text("the person's staged work\n")
    shape.git("add", "person.txt")
    readme = shape.work / "README.md"
    if readme.exists():
        readme.write_text(readme.read_text() + "an unstaged edit\n")


def person_status(shape: Shape) -> set[str]:
    """What `git status` shows of the person's work (an Op that is pending shows
    as untracked records under kitty-ops/: that is not the person's)."""
    lines = shape.git("status", "--porcelain", "--untracked-files=all").splitlines()
    return {line for line in lines if not (line.startswith("?? ") and "kitty-ops/" in line)}


def start_and_complete(shape: Shape, action: str = ACTION) -> tuple[str, subprocess.CompletedProcess]:
    started = shape.run("start", "--profile", PROFILE, "--action", action, check=True)
    op_id = started.stdout.strip()
    return op_id, shape.run("complete", op_id)


def op_subject(op_id: str, action: str = ACTION) -> str:
    return f"op({PROFILE}): {action} [{op_id[:8]}]"


def pending_ids(shape: Shape) -> list[str]:
    report = json.loads(shape.run("doctor", "ops", "--json").stdout)
    return [entry["invocation_id"] for entry in report["pending"]]


# The matrix.

def test_complete_makes_the_op_commit_git_would_make(shape):
    person_stages_work(shape)
    before = person_status(shape)
    op_id, completed = start_and_complete(shape)
    assert completed.returncode == 0, completed.stderr
    if shape.blocked_by:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and shape.blocked_by in lines[0].lower(), completed.stderr
        assert "not committed" in lines[0], lines
        assert pending_ids(shape) == [op_id]
        assert person_status(shape) == before
        shape.unblock()
        committed = shape.run("commit", "--pending")
        assert committed.returncode == 0, committed.stderr
        assert pending_ids(shape) == []
    assert subjects(shape)[0] == op_subject(op_id), completed.stderr
    branch = shape.git("symbolic-ref", "HEAD")
    for ref in ("HEAD", branch):  # the reflogs, as `git update-ref -m` writes them
        assert shape.git("reflog", "-1", "--format=%H %gs", ref) == \
            f"{shape.git('rev-parse', 'HEAD')} commit: {op_subject(op_id)}"
    changed = shape.git("show", "--format=", "--name-only", "HEAD").splitlines()
    assert changed and all(path.startswith("kitty-ops/") for path in changed), changed
    assert f"kitty-ops/{op_id}.jsonl" in changed
    assert person_status(shape) == before, shape.git("status", "--porcelain")
    assert_fsck_clean(shape)
    assert_object_store_as_git_makes_it(shape)
    commit = subprocess.run(["git", *shape.git_args, "commit", "-qm", "the person's commit"], cwd=shape.work,
                            env={**os.environ, **shape.env}, capture_output=True, text=True)
    assert commit.returncode == 0, commit.stderr
    assert subjects(shape)[:2] == ["the person's commit", op_subject(op_id)]
    person_path = (shape.work / "person.txt").relative_to(top(shape)).as_posix()
    assert shape.git("show", "--format=", "--name-only", "HEAD").splitlines() == [person_path]
    assert_fsck_clean(shape)


def test_every_op_of_a_busy_agent_is_committed_in_order(shape):
    if shape.blocked_by:
        shape.unblock()
    ids = [start_and_complete(shape, action=f"step{number}")[0] for number in range(3)]
    assert subjects(shape)[:3] == [op_subject(op_id, f"step{n}") for n, op_id in reversed(list(enumerate(ids)))]
    assert pending_ids(shape) == []
    lifecycle = shape.git("show", "HEAD:kitty-ops/.gitattributes", check=False)
    assert "merge=union" in lifecycle
    assert_fsck_clean(shape)
    assert_object_store_as_git_makes_it(shape)


def test_commit_pending_commits_what_a_no_commit_completion_left(shape):
    if shape.blocked_by:
        shape.unblock()
    op_id = shape.run("start", "--profile", PROFILE, "--action", ACTION, check=True).stdout.strip()
    shape.run("complete", op_id, "--no-commit", check=True)
    assert pending_ids(shape) == [op_id]
    shape.run("commit", "--pending", check=True)
    assert subjects(shape)[0] == op_subject(op_id)
    assert pending_ids(shape) == []
    assert_fsck_clean(shape)


def _stage_stale_orphan(shape: Shape) -> str:
    from kitty_ops.format.ulid import new_ulid

    op_id = new_ulid()
    records = top(shape) / "kitty-ops"
    records.mkdir(exist_ok=True)
    line = {"event": "started", "invocation_id": op_id, "profile_id": PROFILE, "action": ACTION,
            "started_at": STALE_STARTED_AT}
    (records / f"{op_id}.jsonl").write_text(json.dumps(line) + "\n")
    subprocess.run(["git", "add", "--sparse", "--", str(records / f"{op_id}.jsonl")], cwd=shape.work,
                   env={**os.environ, **shape.env}, check=True, capture_output=True)
    return op_id


def _install_orphans_hook(shape: Shape) -> None:
    """The orphans hook as `kitty-ops init --write` writes it (a local hook), through pre-commit."""
    root = top(shape)
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: kitty-ops-orphans\n    name: kitty-ops orphans\n"
        "    entry: kitty-ops-orphans\n    language: system\n    pass_filenames: false\n    always_run: true\n"
    )
    env = {**os.environ, **shape.env}
    hooks = shape.git("config", "core.hooksPath", check=False)
    if hooks:  # pre-commit refuses to install there: the team's own hook runs it
        script = root / hooks / "pre-commit"
        script.write_text(f"#!/bin/sh\nexec {sys.executable} -m pre_commit run --hook-stage pre-commit\n")
        script.chmod(0o755)
        return
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=root, env=env, check=True,
                   capture_output=True)


def _person_commit(shape: Shape) -> subprocess.CompletedProcess:
    env = {**os.environ, **shape.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["git", *shape.git_args, "commit", "-m", "the person's commit"], cwd=shape.work,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_orphans_hook_blocks_a_staged_stale_orphan_through_pre_commit(shape):
    if shape.blocks_person:
        shape.unblock()
    _install_orphans_hook(shape)
    person_stages_work(shape)
    op_id = _stage_stale_orphan(shape)
    blocked = _person_commit(shape)
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert op_id in blocked.stdout + blocked.stderr
    shape.git("rm", "-q", "--cached", "--sparse", "--", f"{top(shape)}/kitty-ops/{op_id}.jsonl")
    shape.run("complete", op_id, "--outcome", "abandoned", check=True)
    clean = _person_commit(shape)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "the person's commit" in subjects(shape)


def test_the_orphans_hook_main_blocks_a_staged_stale_orphan(shape, monkeypatch, capsys):
    if shape.blocks_person:
        shape.unblock()
    from kitty_ops.hooks import orphans

    op_id = _stage_stale_orphan(shape)
    root = top(shape)
    monkeypatch.chdir(root)
    for name, value in shape.env.items():
        monkeypatch.setenv(name, value)
    assert orphans.main([]) == 1
    assert op_id in capsys.readouterr().out
    shape.git("rm", "-q", "--cached", "--sparse", "--", f"{root}/kitty-ops/{op_id}.jsonl")
    (root / "kitty-ops" / f"{op_id}.jsonl").unlink()
    assert orphans.main([]) == 0


def test_doctor_lists_a_dead_orphan_and_sweeps_it(shape):
    if shape.blocked_by:
        shape.unblock()
    owner = subprocess.Popen(["sleep", "60"])
    op_id = shape.run("start", "--profile", PROFILE, "--action", ACTION, "--owner-pid", str(owner.pid),
                      check=True).stdout.strip()
    owner.kill()
    owner.wait()
    listed = shape.run("doctor", "ops", "--json")
    assert listed.returncode == 1, listed.stderr
    assert [entry["invocation_id"] for entry in json.loads(listed.stdout)["orphans"]] == [op_id]
    swept = shape.run("doctor", "ops", "--close-stale")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert subjects(shape)[0] == op_subject(op_id)
    report = json.loads(shape.run("doctor", "ops", "--json").stdout)
    assert (report["orphans"], report["pending"], report["invalid"]) == ([], [], [])
    assert_fsck_clean(shape)


def test_audit_passes_op_commits_and_finds_a_committed_orphan(shape):
    if shape.blocks_person:
        shape.unblock()
    start_and_complete(shape)
    if shape.shallow:
        refused = shape.run("audit")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "git fetch" in refused.stderr, refused.stderr
        return
    clean = shape.run("audit")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    op_id = _stage_stale_orphan(shape)
    shape.git("commit", "-q", "--no-verify", "-m", "an orphan slips in")
    found = shape.run("audit")
    assert found.returncode == 1, found.stdout + found.stderr
    assert op_id in found.stdout


def test_ref_mode_commits_to_the_records_ref_and_syncs(shape, tmp_path):
    if shape.blocks_person:
        shape.unblock()
    remote = tmp_path / "records-remote.git"
    object_format = shape.git("rev-parse", "--show-object-format")
    git(tmp_path, "init", "-q", "--bare", f"--object-format={object_format}", str(remote))
    shape.git("remote", "add", "records", str(remote))
    shape.run("init", "--ref", "--remote", "records", check=True)
    head_before = shape.git("rev-parse", "HEAD", check=False)
    person_stages_work(shape)
    before = person_status(shape)
    op_id, completed = start_and_complete(shape)
    assert completed.returncode == 0, completed.stderr
    assert subjects(shape, "refs/kitty-ops/records")[0] == op_subject(op_id)
    assert shape.git("rev-parse", "HEAD", check=False) == head_before
    assert person_status(shape) == before
    synced = shape.run("sync", "records")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    remote_subject = git(remote, "log", "--format=%s", "-1", "refs/kitty-ops/records")
    assert remote_subject == op_subject(op_id)
    assert_fsck_clean(shape)
    assert re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", shape.git("rev-parse", "refs/kitty-ops/records"))
