"""Reading and writing git: the one place git runs, and git's own files (objects, index, refs)."""
