"""`kitty-ops agents install`, `uninstall` and `status`, without click."""
from __future__ import annotations

import os

from kitty_ops.agents import jsonconfig, sessions
from kitty_ops.agents.jsonconfig import ConfigError
from kitty_ops.agents.spec import NAMES, SCOPES, AgentSpec, agent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _spec_and_path(name: str, scope: str, top: str) -> tuple[AgentSpec, str]:
    spec = agent(name)
    try:
        return spec, spec.config_path(scope, top)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _read(spec: AgentSpec, path: str) -> Any:
    if spec.fmt == "json":
        return jsonconfig.load(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}; left untouched") from None


def _write(spec: AgentSpec, path: str, doc: Any, before: Any) -> bool:
    if spec.fmt == "json":
        return jsonconfig.save(path, doc, before)
    if (doc or "") == (before or ""):
        return False
    if not doc and before is not None:
        os.unlink(path)
        return True
    from kitty_ops.system import files

    files.write_atomically(path, doc.encode(), 0o644)
    return True


def _change(spec: AgentSpec, path: str, change: Any) -> bool:
    before = _read(spec, path)
    empty: Any = {} if spec.fmt == "json" else ""
    try:
        after = change(empty if before is None else before)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return _write(spec, path, None if after == empty and before is None else after, before)


def install(name: str, scope: str, top: str, per: str = "session") -> tuple[str, bool]:
    """Merge kitty-ops' hooks into `name`'s configuration of `scope`: (the file, whether it changed)."""
    spec, path = _spec_and_path(name, scope, top)
    return path, _change(spec, path, lambda doc: spec.install(doc, per))


def uninstall(name: str, scope: str, top: str) -> tuple[str, bool]:
    """Take out exactly what `install` put in: (the file, whether it changed)."""
    spec, path = _spec_and_path(name, scope, top)
    return path, _change(spec, path, spec.uninstall)


def status(top: str, common_dir: str | None) -> list[dict[str, Any]]:
    """Per agent: the scopes where kitty-ops' hooks are installed, and when one last fired."""
    rows = []
    for name in NAMES:
        spec = agent(name)
        scopes, problems = [], []
        for scope in SCOPES:
            if scope not in spec.paths:
                continue
            path = spec.config_path(scope, top)
            try:
                doc = _read(spec, path)
                if doc is not None and spec.installed(doc):
                    scopes.append(scope)
            except ConfigError as exc:
                problems.append(str(exc))
        fired = sessions.last_fired(sessions.state_dir(common_dir), name) if common_dir else None
        rows.append({"agent": name, "installed": scopes, "last_fired": fired[0] if fired else None,
                     "last_event": fired[1] if fired else None, "problems": problems,
                     "hooks": spec.event is not None})
    return rows
