"""What the records say: list, show, log, audit, report."""
