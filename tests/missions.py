"""A mission's worth of Ops in a real repository, with times spread over hours:
what the report's tests render, and what docs/report.png shows."""
from __future__ import annotations

import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROFILES = ("architect", "implementer", "reviewer", "tester")
ACTORS = ("claude", "codex")
ACTIONS = {"architect": "specify", "implementer": "implement", "reviewer": "review", "tester": "test"}
REQUESTS = ("add a cache to the loader", "fix the flaky login test", "review the cache change",
            "split the parser module", "document the CLI", "bump the pinned versions")


def _at(moment: datetime) -> str:
    return moment.isoformat()


def build_mission(root: Path, count: int = 24, seed: int = 14, mission_id: str = "01KWVD6Y5CC8ARAKD3JZAJEXBX",
                  now: datetime | None = None, commit: bool = True) -> dict:
    """Write `count` Ops into the repository at `root` (already `git init`ed,
    with a commit): completed ones (done, failed, abandoned) committed as Op
    commits, then one pending (completed, not committed), one open Op whose
    owner runs, one whose owner is dead and one stale (`kitty-ops.maxAgeHours` is set to 2). What was written:
    `{"ops": {id: status}, "pending": [...], "owner": Popen of the running owner}`."""
    from kitty_ops.format import events
    from kitty_ops.format.ulid import new_ulid
    from kitty_ops.lifecycle import owners
    from kitty_ops.store.writer import write_completed, write_started

    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    begin = now - timedelta(hours=6)
    written: dict[str, str] = {}

    def start(profile: str, at: datetime, **extra) -> str:
        op_id = new_ulid()
        write_started(root, events.started_event(
            op_id, profile, ACTIONS[profile], _at(at), actor=rng.choice(ACTORS), mission_id=mission_id,
            request_text=extra.pop("request_text", rng.choice(REQUESTS)), **extra))
        return op_id

    def complete(op_id: str, at: datetime, outcome: str, artifacts=()) -> None:
        links = [events.artifact_link(op_id, _at(at), ref) for ref in artifacts]
        write_completed(root, events.completed_event(op_id, _at(at), outcome, "agent"), links)
        written[op_id] = outcome

    regular = max(count - 4, 0)
    for number in range(regular):
        profile = PROFILES[number % len(PROFILES)]
        at = begin + timedelta(minutes=rng.uniform(0, 300))
        op_id = start(profile, at)
        outcome = rng.choices(("done", "failed", "abandoned"), (8, 2, 1))[0]
        complete(op_id, at + timedelta(minutes=rng.uniform(1, 50)), outcome,
                 artifacts=[f"src/module_{number}.py"] if outcome == "done" else [])
    if commit:
        _kitty_ops(root, "commit", "--pending")
    pending = []
    if count >= 4:
        op_id = start("implementer", now - timedelta(minutes=40))
        complete(op_id, now - timedelta(minutes=5), "done", artifacts=["src/pending.py"])
        pending.append(op_id)
        owner = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
        running = start("implementer", now - timedelta(minutes=25), request_text="still at work")
        owners.record_owner(root, running, owner.pid)
        gone = subprocess.Popen(["true"])
        gone.wait()
        dead = start("reviewer", now - timedelta(minutes=90), request_text="crashed")
        owners.record_owner(root, dead, gone.pid)
        subprocess.run(["git", "config", "kitty-ops.maxAgeHours", "2"], cwd=root, check=True)
        stale = start("tester", now - timedelta(hours=3), request_text="forgotten")
        written.update({running: "running", dead: "dead", stale: "stale"})
    else:
        owner = None
    return {"ops": written, "pending": pending, "owner": owner}


def _kitty_ops(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "kitty_ops", *args], cwd=root, check=True,
                   capture_output=True, text=True, timeout=600)
