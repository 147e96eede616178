"""The Op commit: a completed record onto the branch (or the records ref), beside a person's git."""
