"""The record format and its rules: paths, ids, lines, events, the lifecycle log (standard library only)."""
