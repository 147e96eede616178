"""Fixtures: real git repositories in temporary directories, isolated from the
machine's git configuration."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

COMPAT_CORPUS = Path(__file__).parent / "data" / "spec-kitty-kitty-ops"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

GITCONFIG = """\
[user]
    name = Test Author
    email = test@example.com
[init]
    defaultBranch = main
[commit]
    gpgsign = false
[advice]
    detachedHead = false
"""


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    """One pre-commit cache for the whole session: hook environments are slow to build."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory, monkeypatch, pre_commit_home) -> Path:
    """Every test sees only its own git configuration and no kitty-ops settings."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(GITCONFIG)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_DATE",
        "KITTY_OPS_POST_COMPLETE_HOOK",
        "KITTY_OPS_REPO",
        "NO_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git in `root` and return its stdout without the final newline."""
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.rstrip("\n")


@pytest.fixture
def repo(git_repo, monkeypatch) -> Path:
    """An empty git repository (pytest-git's `git_repo`), the current directory."""
    root = Path(str(git_repo.workspace)).resolve()
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def committed_repo(repo) -> Path:
    """A git repository with one commit holding README.md."""
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "initial")
    return repo


@pytest.fixture
def corpus_repo(committed_repo) -> Path:
    """The spec-kitty compatibility corpus copied into `kitty-ops/` and committed."""
    shutil.copytree(COMPAT_CORPUS, committed_repo / "kitty-ops")
    git(committed_repo, "add", "kitty-ops")
    git(committed_repo, "commit", "-qm", "spec-kitty records")
    return committed_repo


def open_op(repo: Path, hours_ago: float = 0.0, started_at: str | None = None, **fields) -> str:
    """Write an open Op whose started_at lies `hours_ago` in the past; its id."""
    from datetime import datetime, timedelta, timezone

    from kitty_ops.format import events
    from kitty_ops.format.ulid import new_ulid
    from kitty_ops.store.writer import write_started

    fields.setdefault("profile_id", "implementer")
    fields.setdefault("action", "implement")
    op_id = new_ulid()
    at = started_at or (datetime.now(timezone.utc) - timedelta(hours=hours_ago)).isoformat()
    write_started(repo, events.started_event(op_id, started_at=at, **fields))
    return op_id


def record(repo: Path, op_id: str) -> Path:
    return repo / "kitty-ops" / f"{op_id}.jsonl"


def kitty_ops_process(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run the kitty-ops command line as its own process (this Python, `-m kitty_ops`)."""
    import sys

    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    return subprocess.run([sys.executable, "-m", "kitty_ops", *args], cwd=cwd, **kwargs)


def env_with_scripts() -> dict[str, str]:
    """The environment, with this Python's console scripts (`kitty-ops`) first on PATH."""
    import os
    import sys

    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.02):
    """Poll `predicate` until it returns something true (returned), or fail after `timeout`."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)
def hand_written_op(repo: Path, **started) -> str:
    """An open Op whose started line is written as given, by hand (not by kitty-ops,
    which refuses what breaks a rule); its id."""
    import json

    from kitty_ops.format.ulid import new_ulid

    op_id = new_ulid()
    line = {"event": "started", "invocation_id": op_id, "profile_id": "implementer", "action": "implement",
            "started_at": "2026-01-01T00:00:00+00:00", **started}
    record(repo, op_id).parent.mkdir(exist_ok=True)
    record(repo, op_id).write_text(json.dumps(line) + "\n")
    return op_id


AGENT_PAYLOADS = Path(__file__).parent / "data" / "agents"


@pytest.fixture
def fake_agent():
    """Start `tests/fake_agent.py` (a long-lived agent that runs its installed
    hooks through `sh -c`) on a configuration file, with this Python's scripts
    on PATH; each is killed at the end if still there."""
    import sys

    started = []

    def spawn(config_file: Path, cwd: Path) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "fake_agent.py"), str(config_file), str(cwd)],
            cwd=cwd, env=env_with_scripts(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        started.append(process)
        return process

    yield spawn
    reap(started)


def beside(loop, action, count: int) -> list:
    """`action()` run `count` times while `loop(stop)` runs in a thread of its own
    (a `threading.Event` it watches, set once they are done); their results."""
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop,))
    thread.start()
    try:
        return [action() for _ in range(count)]
    finally:
        stop.set()
        thread.join()


def reap(started: list[subprocess.Popen]) -> None:
    """Kill the processes a test started that still run, wait for all, close their pipes."""
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream:
                stream.close()
