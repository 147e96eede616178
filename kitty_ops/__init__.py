"""kitty-ops: durable, auditable records of AI-agent operations, kept in git.

The public API is loaded on first use, so that the pre-commit hooks, which
import this package on every commit, stay light.
"""
from __future__ import annotations

__version__ = "0.1.0"

_API = {
    "start": "kitty_ops.api",
    "complete": "kitty_ops.api",
    "op": "kitty_ops.api",
    "Op": "kitty_ops.api",
    "start_invocation": "kitty_ops.lifecycle.executor",
    "complete_invocation": "kitty_ops.lifecycle.executor",
    "Completion": "kitty_ops.lifecycle.executor",
    "InvocationRecord": "kitty_ops.record",
    "CompletedEvent": "kitty_ops.record",
    "ArtifactLink": "kitty_ops.record",
    "CommitLink": "kitty_ops.record",
    "OpRecord": "kitty_ops.record",
    "read_record": "kitty_ops.record",
    "MINIMAL_VIABLE_TRAIL_POLICY": "kitty_ops.record",
    "list_orphan_ops": "kitty_ops.doctor.ops",
    "KittyOpsError": "kitty_ops.errors",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'kitty_ops' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
