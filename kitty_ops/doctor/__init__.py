"""Health checks of the Op records of a repository (`kitty-ops doctor`)."""
