"""`kitty-ops report`: one self-contained HTML page of a repository's Ops.

`report_data` gathers what the page shows from the records (one entry per
Op: its lane, times, outcome, owner state, pending mark, request, artifacts
and Op commit); `render_page` writes the page: the data as an inert JSON
block, the timeline drawn from it by the page's own script, and the summary
table as plain HTML. Nothing is fetched: the style and the script are
inline, and the page's Content-Security-Policy allows only those two (by
hash), so no text from a record can run as script or load anything.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import statistics
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from kitty_ops.format.layout import EVENTS_DIR
from kitty_ops.format.scan import parse_timestamp, read_scan
from kitty_ops.gitio import git
from kitty_ops.queries.durations import format_duration
from kitty_ops.queries.listing import list_ops

DEFAULT_OUTPUT = "kitty-ops-report.html"
MAX_TEXT = 4000  # characters of a request or evidence kept in the page
OUTCOMES = ("done", "failed", "abandoned")
OPEN_STATES = ("running", "dead", "stale", "open")  # `open`: fresh, owner unknown


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


# Bidirectional controls reorder what follows them on screen (a U+202E in a
# request reverses it): the page shows each as a visible mark instead.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def visible_controls(text: str) -> str:
    """`text` with each bidirectional control shown as `⟨U+202E⟩`."""
    if not BIDI_CONTROLS.intersection(text):
        return text
    return "".join(f"⟨U+{ord(char):04X}⟩" if char in BIDI_CONTROLS else char for char in text)


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    value = visible_controls(value)
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"


def default_output(repo_root: Path | str) -> str:
    """Where the page goes by default: outside the work tree, in the git
    directory (`.git/kitty-ops/report.html`), never an untracked file in the
    work tree; outside git, `kitty-ops-report.html` here."""
    import os

    repo = git.find_repo(repo_root)
    if repo is None:
        return os.path.abspath(DEFAULT_OUTPUT)
    directory = os.path.join(repo.git_path, "kitty-ops")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, "report.html")


def _op_commits(root: Path) -> dict[str, str]:
    """Op id -> the newest Op commit that recorded it."""
    if git.find_repo(root) is None:
        return {}
    from kitty_ops.queries.oplog import op_commits

    found: dict[str, str] = {}
    for entry in op_commits(root):
        if entry["invocation_id"]:
            found.setdefault(entry["invocation_id"], entry["commit"])
    return found


def _pending_ids(root: Path) -> set[str]:
    """Completed Ops whose record is not committed as it is (as `doctor ops` says)."""
    if git.find_repo(root) is None:
        return set()  # outside git nothing is ever committed: no Op is "pending"
    from kitty_ops.doctor.ops import find_pending

    return {entry["invocation_id"] for entry in find_pending(root)}


def _open_state(summary: dict[str, Any], started: datetime | None, now: datetime, threshold_hours: float) -> str:
    from kitty_ops.doctor.ops import is_stale

    owner = summary.get("owner_state") or "unknown"
    age = None if started is None else (now - started).total_seconds() / 3600
    if owner == "running":
        return "running"
    if owner == "dead":
        return "dead"
    return "stale" if is_stale({"owner_state": owner, "age_hours": age}, threshold_hours) else "open"


def report_data(
    repo_root: Path | str,
    *,
    mission_id: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
    threshold_hours: float | None = None,
) -> dict[str, Any]:
    """What the page shows: `{"generated_at", "repo", "filters", "ops": [...], "invalid": [...]}`.

    Each Op: `id`, `profile`, `actor`, `action`, `status` (an outcome,
    `completed` for a legacy record without one, or `open`), `state` (for an
    open Op: `running`, `dead`, `stale` or `open`), `start` and `end`
    (milliseconds since the epoch; `end` None while open), `pending`,
    `request`, `artifacts`, `commit_links`, `op_commit` and a few more fields
    of the record. Ops started before `since` are left out.
    """
    from kitty_ops.lifecycle.threshold import max_age_hours

    root = Path(repo_root)
    now = now or datetime.now(timezone.utc)
    threshold_hours = max_age_hours(root, threshold_hours)
    commits = _op_commits(root)
    pending = _pending_ids(root)
    ops, invalid = [], []
    for summary in list_ops(root, None, mission_id=mission_id):
        op_id = summary["invocation_id"]
        if summary["status"] == "invalid":
            invalid.append(summary["path"])
            continue
        scan = read_scan(root / EVENTS_DIR / f"{op_id}.jsonl", op_id)
        started_event, completed_event = scan.started or {}, scan.completed or {}
        started = parse_timestamp(started_event.get("started_at"))
        if started is None:
            invalid.append(summary["path"])
            continue
        if since is not None and started < since:
            continue
        ended = parse_timestamp(completed_event.get("completed_at")) if scan.completed else None
        is_open = scan.completed is None
        artifacts, commit_links = [], []
        for _number, event in scan.events:
            if event.get("event") == "artifact_link" and isinstance(event.get("ref"), str):
                artifacts.append(event["ref"])
            elif event.get("event") == "commit_link" and isinstance(event.get("sha"), str):
                commit_links.append(event["sha"])
        ops.append({
            "id": op_id,
            "profile": summary["profile_id"] or "?",
            "actor": _text(started_event.get("actor")),
            "action": summary["action"] or "?",
            "status": summary["status"],
            "state": _open_state(summary, started, now, threshold_hours) if is_open else None,
            "start": _ms(started),
            "end": None if is_open else _ms(ended or started),
            "pending": op_id in pending,
            "request": _text(started_event.get("request_text")),
            "mission": _text(started_event.get("mission_id")),
            "wp": _text(started_event.get("wp_id")),
            "model": _text(started_event.get("model_id")),
            "closed_by": _text(completed_event.get("closed_by")),
            "evidence": _text(completed_event.get("evidence_ref")),
            "artifacts": [_text(ref) for ref in artifacts[:200]],
            "commit_links": commit_links[:50],
            "op_commit": commits.get(op_id),
        })
    ops.sort(key=lambda op: (op["start"], op["id"]))
    return {
        "generated_at": _ms(now),
        "repo": str(root),
        "filters": {"mission_id": mission_id, "since": since.isoformat() if since else None},
        "threshold_hours": threshold_hours,
        "ops": ops,
        "invalid": sorted(invalid),
    }


def summary_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per profile (and a last `all` row): counts per outcome and open
    state, pending, and the durations of completed Ops (seconds)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in data["ops"]:
        groups.setdefault(op["profile"], []).append(op)
    rows = [_summary_row(name, ops) for name, ops in sorted(groups.items())]
    if len(rows) != 1:
        rows.append(_summary_row("all", data["ops"]))
    return rows


def _summary_row(name: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
    durations = [(op["end"] - op["start"]) / 1000 for op in ops if op["end"] is not None]
    row = {"profile": name, "ops": len(ops), "pending": sum(op["pending"] for op in ops)}
    for outcome in (*OUTCOMES, "completed"):
        row[outcome] = sum(op["status"] == outcome for op in ops)
    for state in OPEN_STATES:
        row[state] = sum(op["state"] == state for op in ops)
    row["total_seconds"] = sum(durations) if durations else None
    row["median_seconds"] = statistics.median(durations) if durations else None
    row["longest_seconds"] = max(durations) if durations else None
    return row


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Profile", "profile"), ("Ops", "ops"), ("done", "done"), ("failed", "failed"),
    ("abandoned", "abandoned"), ("running", "running"), ("dead", "dead"), ("stale", "stale"),
    ("open", "open"), ("pending", "pending"), ("total time", "total_seconds"),
    ("median", "median_seconds"), ("longest", "longest_seconds"),
)


def _summary_table(data: dict[str, Any]) -> str:
    rows = summary_rows(data)
    if any(row["completed"] for row in rows):
        columns = (*_COLUMNS[:5], ("no outcome", "completed"), *_COLUMNS[5:])
    else:
        columns = _COLUMNS
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in columns)
    body = []
    for row in rows:
        cells = []
        for _title, key in columns:
            value = row[key]
            if key.endswith("_seconds"):
                text = "–" if value is None else format_duration(value)  # noqa: RUF001
            else:
                text = str(value) if value or key == "ops" else ""
            cls = ' class="name"' if key == "profile" else f' class="n {key}"'
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        total = ' class="total"' if row["profile"] == "all" else ""
        body.append(f"<tr{total}>{''.join(cells)}</tr>")
    return (
        '<table id="summary"><thead><tr>' + head + "</tr></thead><tbody>"
        + "".join(body) + "</tbody></table>"
    )


def _asset(name: str) -> str:
    return (resources.files("kitty_ops") / "report_assets" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _json_block(data: dict[str, Any]) -> str:
    """JSON that stays inert inside <script type="application/json">: no `<`, `>`
    or `&` can end the block or open a comment."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(data: dict[str, Any]) -> str:
    """The whole page, as text."""
    style, script = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    filters = [f"mission {data['filters']['mission_id']}"] if data["filters"]["mission_id"] else []
    if data["filters"]["since"]:
        filters.append(f"since {data['filters']['since'][:19].replace('T', ' ')} UTC")
    generated = datetime.fromtimestamp(data["generated_at"] / 1000, timezone.utc)
    subtitle = " · ".join([
        f"{len(data['ops'])} Op{'' if len(data['ops']) == 1 else 's'}", *filters,
        f"as of {generated:%Y-%m-%d %H:%M:%S} UTC",
    ])
    invalid = ""
    if data["invalid"]:
        items = "".join(f"<li>{html.escape(path)}</li>" for path in data["invalid"])
        invalid = (
            f'<section id="invalid"><h2>Invalid records: {len(data["invalid"])} (not drawn)</h2>'
            f"<ul>{items}</ul><p>kitty-ops validate names what is wrong with each.</p></section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kitty-ops report: {html.escape(data["repo"])}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>kitty-ops report <span class="repo">{html.escape(data["repo"])}</span></h1>
<p class="subtitle">{html.escape(subtitle)}</p>
</header>
<section id="timeline-section">
<div id="controls">
<label>Lanes <select id="lane-by"><option value="profile">by profile</option>
<option value="actor">by actor</option></select></label>
<button type="button" id="zoom-out" title="Zoom out">−</button>
<button type="button" id="zoom-fit" title="Fit to width">fit</button>
<button type="button" id="zoom-in" title="Zoom in">+</button>
<span id="legend"></span>
</div>
<div id="timeline"><noscript>The timeline needs JavaScript; the summary below does not.</noscript></div>
<div id="tooltip" hidden></div>
<aside id="details"><p class="hint">Hover over an Op to see it; click to keep it here.</p></aside>
</section>
<section id="summary-section">
<h2>Ops per profile</h2>
{_summary_table(data)}
<p class="note">Durations are of completed Ops. Open Ops: running (owner runs), dead (owner gone),
stale (owner unknown, open longer than {data["threshold_hours"]:g}h), open (owner unknown, fresh).
Pending: completed, not yet committed (<code>kitty-ops commit --pending</code>).</p>
</section>
{invalid}
<script type="application/json" id="kitty-ops-data">{_json_block(data)}</script>
<script>{script}</script>
</body>
</html>
"""  # noqa: RUF001 (the MINUS SIGN of the zoom-out button)


def write_report(
    repo_root: Path | str,
    output: Path | str,
    *,
    mission_id: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write the page for the repository to `output`; the data it shows."""
    data = report_data(repo_root, mission_id=mission_id, since=since, now=now)
    Path(output).write_text(render_page(data), encoding="utf-8")
    return data
