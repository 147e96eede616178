"""The one git runner of the benchmark scripts (imported from their own directory)."""
from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: Path, *args: str, check: bool = True, timeout: float | None = None) -> str:
    """`git ARGS` in `repo`: its standard output; RuntimeError with git's message when
    it fails and `check`."""
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout
