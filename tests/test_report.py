"""`kitty-ops report`: the page, its data, and what a real browser draws of it."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
from kitty_ops.queries.report import render_page, report_data, summary_rows

from .conftest import git, kitty_ops_process
from .missions import build_mission

HOSTILE = "<script>alert(1)</script>"
CLOSER = "</script><img src=x onerror=alert(2)>"


def chromium(*args: str, page: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """Debian's chromium, headless, isolated, with no network features; `.ci/run` installs it."""
    binary = shutil.which("chromium")
    assert binary, "chromium is not on PATH: .ci/run installs it (apt-get install -y chromium)"
    profile = tmp_path / "chromium-profile"
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr",
        "--v=0", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run([*command, page.as_uri() if isinstance(page, Path) else page],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def dump_dom(page, tmp_path: Path) -> str:
    result = chromium("--window-size=1280,900", "--dump-dom", page=page, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Uncaught" not in result.stderr and "Content Security Policy" not in result.stderr, result.stderr
    return result.stdout


def body_attributes(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom)
    assert tag, dom[:500]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(1)))


@pytest.fixture
def mission_repo(committed_repo):
    """A repository with 24 Ops of four profiles (see tests/missions.py)."""
    built = build_mission(committed_repo, 24)
    try:
        yield committed_repo, built
    finally:
        built["owner"].kill()
        built["owner"].wait()


def test_report_writes_the_page_outside_the_work_tree_and_prints_its_path(committed_repo):
    op = start_invocation(committed_repo, "implementer", "implement", request_text="add a cache")
    complete_invocation(committed_repo, op["invocation_id"], "done", artifacts=["src/cache.py"])
    result = kitty_ops_process("report", cwd=committed_repo)
    assert result.returncode == 0, result.stderr
    page = committed_repo / ".git" / "kitty-ops" / "report.html"
    assert result.stdout == f"{page}  (1 Op)\n"
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "add a cache" in text and "src/cache.py" in text
    assert "report" not in git(committed_repo, "status", "--porcelain", "--ignored")  # not in the work tree


def test_bidirectional_controls_in_records_are_shown_as_visible_marks(committed_repo):
    from kitty_ops.queries.report import report_data

    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    start_invocation(committed_repo, "implementer", "implement", request_text=f"pay \u202eevil{controls}")
    [op] = report_data(committed_repo)["ops"]
    assert op["request"].startswith("pay ⟨U+202E⟩evil⟨U+202A⟩⟨U+202B⟩")
    assert not set(controls) & set(op["request"])
    assert kitty_ops_process("report", cwd=committed_repo).returncode == 0
    page = (committed_repo / ".git" / "kitty-ops" / "report.html").read_text()
    assert "\u202e" not in page and "\\u202e" not in page


def test_the_page_loads_nothing_from_anywhere(mission_repo):
    repo, _ = mission_repo
    text = render_page(report_data(repo))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "@import" not in text and "url(http" not in text
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1)
    assert "default-src 'none'" in html.unescape(csp)


def test_record_text_cannot_become_markup_or_script(committed_repo):
    op = start_invocation(committed_repo, "implementer", "implement", request_text=HOSTILE,
                          mission_id=CLOSER, model_id="<!--")
    complete_invocation(committed_repo, op["invocation_id"], "done", artifacts=[CLOSER])
    text = render_page(report_data(committed_repo))
    assert HOSTILE not in text and CLOSER not in text and "<!--" not in text
    assert text.count("<script") == 2 and text.count("</script>") == 2  # the data block and the page's own
    assert text.count("<img") == 0


def test_record_text_is_shown_as_text_in_a_browser(committed_repo, tmp_path):
    op = start_invocation(committed_repo, "implementer", "implement", request_text=HOSTILE, mission_id=CLOSER)
    complete_invocation(committed_repo, op["invocation_id"], "done", artifacts=[CLOSER])
    page = committed_repo / "page.html"
    assert kitty_ops_process("report", "-o", str(page), cwd=committed_repo).returncode == 0
    dom = dump_dom(f"{page.as_uri()}#op={op['invocation_id']}", tmp_path)
    attributes = body_attributes(dom)
    assert attributes.get("data-rendered") == "1" and "data-error" not in attributes
    details = re.search(r'<aside id="details" data-op="([^"]+)">(.*?)</aside>', dom, re.S)
    assert details and details.group(1) == op["invocation_id"]
    assert html.escape(HOSTILE, quote=False) in details.group(2)
    assert html.escape(CLOSER, quote=False) in details.group(2)
    assert dom.count("<script") == 2 and "<img" not in dom


def test_a_browser_draws_one_bar_per_op_coloured_by_outcome_and_state(mission_repo, tmp_path):
    repo, built = mission_repo
    result = kitty_ops_process("report", "-o", "mission.html", cwd=repo)
    assert result.returncode == 0, result.stderr
    dom = dump_dom(repo / "mission.html", tmp_path)
    attributes = body_attributes(dom)
    assert "data-error" not in attributes
    expected = Counter(built["ops"].values())
    assert attributes["data-rendered"] == str(sum(expected.values())) == "24"
    assert attributes["data-lanes"] == "4"
    bars = re.findall(r'<rect [^>]*class="bar [^"]*"[^>]*>', dom)
    drawn = Counter(re.search(r'data-status="([^"]+)"', bar).group(1) for bar in bars)
    assert drawn == expected
    assert {"running", "dead", "stale"} <= set(drawn)
    assert len(re.findall(r'class="bar [^"]*\bopen\b', dom)) == 3
    assert attributes["data-pending-marks"] == "1" == str(len(built["pending"]))
    summary = re.search(r'<table id="summary">.*?</table>', dom, re.S).group(0)
    assert re.search(r'<tr class="total"><td class="name">all</td><td class="n ops">24</td>', summary)


def test_a_browser_takes_a_screenshot_of_the_page(mission_repo, tmp_path):
    repo, _ = mission_repo
    kitty_ops_process("report", cwd=repo, check=True)
    shot = tmp_path / "report.png"
    result = chromium("--window-size=1280,900", f"--screenshot={shot}",
                      page=repo / ".git" / "kitty-ops" / "report.html", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_the_data_holds_what_the_tooltip_shows(mission_repo):
    repo, built = mission_repo
    data = report_data(repo)
    by_id = {op["id"]: op for op in data["ops"]}
    assert {op_id: (op["state"] or op["status"]) for op_id, op in by_id.items()} == built["ops"]
    done = next(op for op in data["ops"] if op["status"] == "done" and not op["pending"])
    assert done["artifacts"] and done["request"] and done["action"]
    assert done["op_commit"] == git(repo, "log", "-1", "--format=%H", f"--grep=Op-Id: {done['id']}")
    (pending,) = [op for op in data["ops"] if op["pending"]]
    assert pending["id"] == built["pending"][0] and pending["op_commit"] is None


def test_the_summary_counts_ops_per_profile_and_outcome(mission_repo):
    repo, built = mission_repo
    rows = {row["profile"]: row for row in summary_rows(report_data(repo))}
    assert set(rows) == {"architect", "implementer", "reviewer", "tester", "all"}
    assert rows["all"]["ops"] == 24
    outcomes = Counter(built["ops"].values())
    for name in ("done", "failed", "abandoned", "running", "dead", "stale"):
        assert rows["all"][name] == outcomes[name]
    assert rows["all"]["pending"] == 1
    assert sum(rows[name]["ops"] for name in rows if name != "all") == 24


def test_mission_id_and_since_choose_the_ops(committed_repo):
    a = start_invocation(committed_repo, "implementer", "implement", mission_id="M1")
    b = start_invocation(committed_repo, "reviewer", "review", mission_id="M2")
    for op in (a, b):
        complete_invocation(committed_repo, op["invocation_id"])
    result = kitty_ops_process("report", "--mission-id", "M1", "-o", "m1.html", cwd=committed_repo)
    assert result.returncode == 0 and "(1 Op)" in result.stdout
    data = json.loads(re.search(r'id="kitty-ops-data">(.*?)</script>',
                                (committed_repo / "m1.html").read_text()).group(1))
    assert [op["id"] for op in data["ops"]] == [a["invocation_id"]]
    assert "(2 Ops)" in kitty_ops_process("report", "--since", "1 hour ago", cwd=committed_repo).stdout
    assert "(0 Ops)" in kitty_ops_process("report", "--since", "now", cwd=committed_repo).stdout


def test_since_that_git_cannot_read_is_refused(committed_repo):
    result = kitty_ops_process("report", "--since", "garbage", cwd=committed_repo)
    assert result.returncode == 2
    assert result.stderr == (
        "kitty-ops: error: --since 'garbage': not a date git understands (try '2 weeks ago' or 2026-11-01)\n"
    )
    assert not (committed_repo / ".git" / "kitty-ops" / "report.html").exists()


def test_an_output_in_a_missing_directory_is_refused(committed_repo):
    result = kitty_ops_process("report", "-o", "no/such/page.html", cwd=committed_repo)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no such directory" in result.stderr


def test_an_empty_repository_gets_a_page_that_says_so(committed_repo, tmp_path):
    assert kitty_ops_process("report", cwd=committed_repo).stdout.endswith("(0 Ops)\n")
    dom = dump_dom(committed_repo / ".git" / "kitty-ops" / "report.html", tmp_path)
    assert body_attributes(dom)["data-rendered"] == "0" and "No Ops to show." in dom


def test_two_thousand_ops_keep_their_lanes_legible(committed_repo, tmp_path):
    built = build_mission(committed_repo, 2000, commit=False)
    built["owner"].kill()
    built["owner"].wait()
    assert kitty_ops_process("report", cwd=committed_repo).returncode == 0
    dom = dump_dom(committed_repo / ".git" / "kitty-ops" / "report.html", tmp_path)
    attributes = body_attributes(dom)
    assert "data-error" not in attributes
    assert attributes["data-rendered"] == "2000" and attributes["data-lanes"] == "4"
    plot = re.search(r'<svg [^>]*class="plot"[^>]*>', dom).group(0)
    height = int(re.search(r'height="(\d+)"', plot).group(1))
    assert 0 < height <= 4 * (8 * 15 + 12) + 34  # four lanes of at most 8 rows each, whatever the count
