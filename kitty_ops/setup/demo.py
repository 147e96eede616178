"""`kitty-ops demo`: the whole story, with real git and the real hooks, in a
throw-away repository.

Every step runs the installed commands (`kitty-ops`, `kitty-ops-orphans`,
`git`, and pre-commit where it is installed) and checks what they did, so the
demo doubles as a smoke test of an installation. It reads no global git
configuration and needs no network.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

Echo = Callable[[str], None]


class DemoFailed(Exception):
    """A step did not do what the demo says it does."""


def _script(name: str) -> str:
    """The console script installed next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _has_pre_commit() -> bool:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        return False
    return True


class Demo:
    def __init__(self, root: Path, echo: Echo) -> None:
        self.root = root
        self.echo = echo
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,  # the user's settings (signing, hooksPath) stay out of it
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "NO_COLOR": "1",
        }
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "KITTY_OPS_POST_COMPLETE_HOOK"):
            self.env.pop(name, None)

    def run(self, *command: str, shown: str | None = None, expect: int | None = 0) -> str:
        """Run a command in the scratch repository, show it and its output."""
        shown = shown or shlex.join(command)
        self.echo(f"  $ {shown}")
        result = subprocess.run(
            command, cwd=self.root, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
        )
        for line in result.stdout.rstrip().splitlines():
            self.echo(f"    {line}")
        if expect is not None and result.returncode != expect:
            raise DemoFailed(f"`{shown}` exited {result.returncode}, expected {expect}")
        return result.stdout

    def kitty_ops(self, *args: str, expect: int | None = 0) -> str:
        return self.run(_script("kitty-ops"), *args, shown=shlex.join(["kitty-ops", *args]), expect=expect)

    def git(self, *args: str, expect: int | None = 0) -> str:
        return self.run("git", *args, expect=expect)

    def say(self, text: str) -> None:
        self.echo("")
        self.echo(text)

    def story(self) -> None:
        self.say("1. A repository, with kitty-ops' pre-commit hook installed.")
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "kitty-ops demo")
        self.git("config", "user.email", "demo@kitty-ops.invalid")
        (self.root / "app.py").write_text("print('hello')\n")
        self.kitty_ops("init")
        self._install_hook()
        self.git("commit", "-qm", "initial commit", "--no-verify")

        self.say("2. An agent starts an Op, does its work, and completes it: the record is committed.")
        done_id = self.kitty_ops("start", "--profile", "implementer", "--action", "implement",
                                 "--request-text", "add a greeting").strip()
        (self.root / "app.py").write_text("print('hello, world')\n")
        self.kitty_ops("complete", done_id, "--artifact", "app.py")
        subject = self.git("log", "-1", "--format=%s").strip()
        if subject != f"op(implementer): implement [{done_id[:8]}]":
            raise DemoFailed(f"expected the Op commit on HEAD, found {subject!r}")
        self.git("show", "--stat", "--format=%h %s", "HEAD")
        self.say("   The agent's own edit to app.py is untouched, still for the agent to commit:")
        self.git("status", "--short")

        self.say("3. Another agent starts an Op: an open Op. Committing its record is blocked.")
        agent = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)  # stands in for the agent
        try:
            orphan_id = self.kitty_ops("start", "--profile", "reviewer", "--action", "review",
                                       "--owner-pid", str(agent.pid)).strip()
            self.git("add", "app.py", f"kitty-ops/{orphan_id}.jsonl")
            self.git("commit", "-m", "greet the world", expect=1)
            self.git("restore", "--staged", f"kitty-ops/{orphan_id}.jsonl")
            self.git("commit", "-qm", "greet the world")
        finally:
            self.say(f"   The agent (pid {agent.pid}) crashes: its Op is an orphan, and dead at once.")
            agent.kill()
            agent.wait()

        self.say("4. The doctor finds the dead orphan and sweeps it, whatever its age.")
        self.kitty_ops("doctor", "ops", expect=1)
        self.kitty_ops("doctor", "ops", "--close-stale")

        self.say("5. What the agents did, from git history:")
        self.kitty_ops("log")
        logged = self.git("log", "--format=%s", "--grep=^op(")
        if f"[{orphan_id[:8]}]" not in logged or f"[{done_id[:8]}]" not in logged:
            raise DemoFailed("expected both Ops in the Op commits")

    def _install_hook(self) -> None:
        orphans = _script("kitty-ops-orphans")
        if _has_pre_commit():
            (self.root / ".pre-commit-config.yaml").write_text(
                "repos:\n- repo: local\n  hooks:\n  - id: kitty-ops-orphans\n    name: kitty-ops orphans\n"
                f"    entry: {orphans}\n    language: system\n    pass_filenames: false\n    always_run: true\n"
            )
            self.git("add", ".pre-commit-config.yaml", "app.py")
            self.run(sys.executable, "-m", "pre_commit", "install", shown="pre-commit install")
        else:
            hook = self.root / ".git" / "hooks" / "pre-commit"
            hook.write_text(f"#!/bin/sh\nexec '{orphans}'\n")
            hook.chmod(0o755)
            self.echo(f"  (pre-commit is not installed: .git/hooks/pre-commit runs {orphans})")
            self.git("add", "app.py")


def run_demo(echo: Echo, keep: bool = False) -> int:
    """Run the demo; 0 when every step did what it should."""
    root = Path(tempfile.mkdtemp(prefix="kitty-ops-demo-"))
    echo(f"kitty-ops demo, in a scratch repository: {root}")
    try:
        Demo(root, echo).story()
    except (DemoFailed, OSError, subprocess.SubprocessError) as exc:
        echo(f"\nkitty-ops demo: {exc}")
        return 1
    finally:
        if keep:
            echo(f"\nThe repository is kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
            echo(f"\nRemoved {root} (use --keep to look around).")
    echo("Done: every Op is in history, and the orphan could not sneak in.")
    return 0
