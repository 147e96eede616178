"""The README's set-up, line by line, in a fresh virtual environment with no network.

The fresh environment cannot download kitty-ops' dependencies (click,
pydantic, pre-commit) or its build backend (setuptools, wheel) offline, so it
sees them from this test environment: its site-packages holds a `.pth` file
naming a directory of links to this environment's installed distributions,
kitty-ops itself left out. kitty-ops is then built and installed into it from
a copy of this source tree by the README's own `pip install` line, run with
`--no-index --no-build-isolation` added. `pre-commit` is this environment's
script; every other command is the fresh environment's. Any HTTP(S) access
goes to a proxy that does not exist.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .conftest import PROJECT_ROOT, git

SOURCE_FILES = ("kitty_ops", "bin", "hooks", "setup.cfg", "pyproject.toml", "README.md", "LICENSE",
                ".pre-commit-hooks.yaml")


def readme_setup_lines() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return re.search(r"## Set up\n.*?Then in a repository of yours.*?```sh\n(.*?)```", readme, re.S).group(1)


def fresh_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    ours = Path(sysconfig.get_paths()["purelib"])
    shared = tmp_path / "shared-site-packages"
    shared.mkdir()
    for entry in ours.iterdir():
        name = entry.name.lower()
        if name.startswith(("kitty_ops", "kitty-ops", "__editable__")) or name.endswith(".pth"):
            continue
        (shared / entry.name).symlink_to(entry)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "kitty-ops-test-shared.pth").write_text(f"{shared}\n")
    return venv


def test_the_readme_set_up_works_as_written_in_a_fresh_environment_offline(tmp_path, isolated_git):
    source = tmp_path / "kitty-ops-source"
    source.mkdir()
    for name in SOURCE_FILES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, source / name)
    venv = fresh_venv(tmp_path)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pre-commit").symlink_to(Path(sys.executable).parent / "pre-commit")
    your_repo = isolated_git / "src" / "your-repo"
    your_repo.mkdir(parents=True)
    git(your_repo, "init", "-q")
    (your_repo / "app.py").write_text("print('hello')\n")
    git(your_repo, "add", "app.py")
    git(your_repo, "commit", "-qm", "initial")

    script = (
        "set -euo pipefail\n"
        'pip() { command pip "$@" --no-index --no-build-isolation --quiet; }\n'
        + readme_setup_lines()
    )
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(venv / "bin"), str(tools), "/usr/local/bin", "/usr/bin", "/bin"]),
        "VIRTUAL_ENV": str(venv),
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
        "PIP_NO_INDEX": "1",
    }
    env.pop("PYTHONPATH", None)
    result = subprocess.run(["bash", "-c", script], cwd=source, env=env, capture_output=True, text=True,
                            timeout=900, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr

    installed = subprocess.run(["bash", "-c", "command -v kitty-ops kitty-ops-orphans"], env=env,
                               capture_output=True, text=True).stdout.split()
    assert installed == [str(venv / "bin" / "kitty-ops"), str(venv / "bin" / "kitty-ops-orphans")]
    for stage in ("pre-commit", "pre-push"):
        assert (your_repo / ".git" / "hooks" / stage).exists()
    subjects = git(your_repo, "log", "--format=%s").splitlines()
    assert subjects[1:] == ["Use kitty-ops", "initial"] and subjects[0].startswith("op(implementer): implement [")
    assert "kitty-ops orphans" in result.stdout + result.stderr  # the hooks ran in that commit
    assert git(your_repo, "status", "--porcelain") == ""

    op_id = subprocess.run(["kitty-ops", "start", "--profile", "reviewer", "--action", "review"], cwd=your_repo,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    git(your_repo, "add", f"kitty-ops/{op_id}.jsonl")
    blocked = subprocess.run(["git", "commit", "-m", "sneak it in"], cwd=your_repo, env=env,
                             capture_output=True, text=True, timeout=300)
    assert blocked.returncode == 1 and f"Op {op_id}" in blocked.stdout + blocked.stderr
