"""The pre-commit hooks of kitty-ops (declared in `.pre-commit-hooks.yaml`)."""
