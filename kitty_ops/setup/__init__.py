"""Setting kitty-ops up in a repository: init, the pre-commit config, the demo."""
