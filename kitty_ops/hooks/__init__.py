"""The pre-commit hooks of kitty-ops (declared in `.pre-commit-hooks.yaml`).

Each is a script (`bin/`); the environment they read is checked here, before
any of them imports the modules that read it (one line and exit 2 when bad).
"""
import os.path as _path
import sys as _sys

from kitty_ops.settings import exit_on_bad_environment as _check

_check(_path.basename(_sys.argv[0]) if _sys.argv and _sys.argv[0] else "kitty-ops")
