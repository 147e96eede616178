"""The objects a batch of Op commits writes itself, and their safety from a
concurrent `git gc --prune=now`.

The objects are written before the branch (or records ref) names them: a
prune that walked the refs in between deletes them once the branch points
at them, and the branch names a missing commit. git's own `git commit` has
the same race. So, once the ref has moved, the Op commit waits for a gc
that was running then (`<common dir>/gc.pid`) to end, and stores again
whatever it wrote that is gone: the same bytes, so the same id.
"""
from __future__ import annotations

import os
import time

from kitty_ops.gitio import objects
from kitty_ops.system import processes

GC_POLL_SECONDS = 0.02


class NewObjects:
    """Loose objects written by kitty-ops (SHA-1 repositories that are not
    shared): blobs at once, trees and commits once named (`flush` writes them
    before anything points at them), every one remembered for `restore_missing`.

    Objects that git's plumbing writes instead (SHA-256, shared repositories, a
    signed commit) are not known here by their bytes: a prune can still take them.
    """

    def __init__(self, objects_dir: str) -> None:
        self.objects_dir = objects_dir
        self.unstored: list[tuple[str, bytes]] = []  # named, written by `flush`
        self.stored: list[tuple[str, bytes]] = []

    def write(self, kind: bytes, data: bytes) -> str:
        """Store an object now; its id."""
        oid, body = objects.hashed(kind, data)
        objects.store(self.objects_dir, oid, body)
        self.stored.append((oid, body))
        return oid

    def name(self, kind: bytes, data: bytes) -> str:
        """The id of a tree or commit, written by `flush`."""
        oid, body = objects.hashed(kind, data)
        self.unstored.append((oid, body))
        return oid

    def flush(self) -> None:
        for oid, body in self.unstored:
            objects.store(self.objects_dir, oid, body)
        self.stored += self.unstored
        self.unstored = []

    def restore_missing(self) -> list[str]:
        """Store again each object written that is no longer loose (pruned, or
        packed by a repack meanwhile: then the loose copy is redundant, and the
        next gc drops it); the ids stored again."""
        missing = [(oid, body) for oid, body in self.stored
                   if not os.path.exists(os.path.join(self.objects_dir, oid[:2], oid[2:]))]
        for oid, body in missing:
            objects.store(self.objects_dir, oid, body)
        return [oid for oid, _ in missing]




def wait_for_gc(common_dir: str, since_ns: int, timeout: float) -> bool:
    """Wait (up to `timeout` seconds) for a `git gc` of this host that started
    before `since_ns` (`time.time_ns()`) to end; False if it still runs.

    git gc holds `gc.pid` ("<pid> <host>") for its whole run. One that wrote it
    after `since_ns` walks the refs after that too: it keeps what they name.
    File times come from a coarse clock, never ahead of `time.time_ns()`: a
    gc.pid newer than `since_ns` was written after it.
    """
    deadline = time.monotonic() + timeout
    while _gc_running_since(os.path.join(common_dir, "gc.pid"), since_ns) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(GC_POLL_SECONDS)
    return True


def _gc_running_since(path: str, since_ns: int) -> int | None:
    """The pid of the live gc of this host that `path` names, if it wrote it
    before `since_ns` (a stale file's pid, reused by another program, is no git)."""
    try:
        with open(path, "rb") as handle:
            written_ns = os.fstat(handle.fileno()).st_mtime_ns
            fields = handle.read(300).split()
    except OSError:
        return None
    if written_ns > since_ns or len(fields) != 2 or not fields[0].isdigit():
        return None
    pid = int(fields[0])
    if fields[1].decode(errors="replace") != processes.host_name() or not processes.is_alive(pid):
        return None
    return pid if processes.process_name(pid) in ("git", None) else None
