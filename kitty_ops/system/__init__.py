"""The machine: clock, processes, locks, files, warnings and script exits (standard library only)."""
