"""Make docs/report.png: the report of a scratch repository set up as
`kitty-ops demo` sets one up, with a mission of 40 Ops (tests/missions.py),
rendered by headless chromium.

    python docs/make_report_png.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.missions import build_mission  # noqa: E402


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="kitty-ops-report-"))
    repo = scratch / "mission"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    os.environ.update(env)
    try:
        for args in (["init", "-q", "-b", "main"], ["config", "user.name", "kitty-ops demo"],
                     ["config", "user.email", "demo@kitty-ops.invalid"]):
            subprocess.run(["git", *args], cwd=repo, check=True)
        (repo / "app.py").write_text("print('hello')\n")
        subprocess.run([sys.executable, "-m", "kitty_ops", "init"], cwd=repo, check=True, capture_output=True)
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        subprocess.run(["git", "commit", "-qm", "initial commit"], cwd=repo, check=True)
        built = build_mission(repo, 40)
        try:
            subprocess.run([sys.executable, "-m", "kitty_ops", "report", "-o", "kitty-ops-report.html"], cwd=repo, check=True)
            subprocess.run([
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                f"--user-data-dir={scratch / 'profile'}", "--window-size=1280,860",
                f"--screenshot={ROOT / 'docs' / 'report.png'}",
                (repo / "kitty-ops-report.html").as_uri() + f"#op={built['pending'][0]}",
            ], check=True, capture_output=True, timeout=120)
        finally:
            built["owner"].kill()
            built["owner"].wait()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(ROOT / "docs" / "report.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
