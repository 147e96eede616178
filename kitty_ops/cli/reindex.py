"""`kitty-ops reindex`: rebuild the local ops index from the record files."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo, repo_option
from kitty_ops.errors import EXIT_OK
from kitty_ops.format.layout import INDEX_PATH
from kitty_ops.store import index
from kitty_ops.store.exclude import ensure_local_files_excluded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


@click.command()
@repo_option
def reindex(repo: Path) -> int:
    """Rebuild kitty-ops/ops-index.jsonl from the records (after a pull, say).

    The index only makes `list` faster; every command works without it.

    \b
    Example:
      git pull && kitty-ops reindex
    """
    count = index.rebuild(repo)
    ensure_local_files_excluded(repo)
    echo(f"indexed {count} Ops in {INDEX_PATH}")
    return EXIT_OK
