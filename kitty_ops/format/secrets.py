"""Finding and redacting secrets in the text kitty-ops writes.

The rules (`secret_rules/table.json`, built by `kitty_ops.format.secret_build`)
are detect-secrets' regex plugins and kitty-ops' supplement, a rule file in
gitleaks' schema. As gitleaks does, the text is lower-cased once and only the
rules one of whose keywords occurs in it run, and of those only the rules
whose secrets fit in the text's longest stretch without whitespace
(`secret_runs`); a rule's regex is compiled (with its flags) the first time
it runs. A match counts when its secret (the rule's
secret group, else the first group that matched, else the match; the whole
match for group -1) is random enough (`entropy`, Shannon bits per character) and no
allow list takes it: the table's global one, the rule's own, ours (ids that
look random but are not secrets: ULIDs, git object ids, UUIDs, `sha256:`
digests, base64 of ordinary text, a redaction already made) and the user's
(`git config kitty-ops.redactAllow`). Secrets that overlap are redacted as one
(their union), under the rule of the widest. A secret becomes `[REDACTED:<rule>]`;
in a token field (`profile_id`, `action`: one word that goes into the Op
commit's subject) the whole value becomes `REDACTED:<rule>`.

Standard library only: the pre-commit hooks import this module.
"""
from __future__ import annotations

import math
import os

from kitty_ops.settings import REDACT_ALLOW_CONFIG, REDACT_CONFIG

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Iterable, Iterator
    from typing import Any

    Finding = tuple[int, int, str]  # start, end, rule id

MARKER = "REDACTED:"
COUNT_FIELD = "redacted"
TOKEN_FIELDS = ("profile_id", "action")
UNSCANNED_FIELDS = ("event", "invocation_id", COUNT_FIELD)
_TOKEN_LIMIT = 64
_compiled: dict[tuple[str, str], re.Pattern[str]] = {}
# A rule's flags are inline-flag letters ("a": ASCII classes, as RE2 reads them), and
# "l": match each line that holds a keyword alone, as detect-secrets scans lines.
_FLAGS = {"a": 256, "i": 2, "m": 8, "s": 16, "u": 32, "x": 64, "l": 0}  # re.ASCII, re.IGNORECASE, ...


def _re(pattern: str, flags: str = "a") -> re.Pattern[str]:
    """`pattern` compiled once, with `flags` (by default as RE2 reads it: ASCII classes)."""
    compiled = _compiled.get((pattern, flags))
    if compiled is None:
        import re

        compiled = _compiled[pattern, flags] = re.compile(pattern, sum(_FLAGS[letter] for letter in flags))
    return compiled


def entropy(text: str) -> float:
    """Shannon entropy of `text`, in bits per character."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = len(text)
    return -sum(count / size * math.log2(count / size) for count in counts.values())


# --- ours: what looks random but is no secret ---

_LOOKALIKES = (
    r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$",  # a ULID (an Op id)
    r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$",  # a git object id (SHA-1, SHA-256)
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",  # a UUID
    r"^(?:sha1|sha224|sha256|sha384|sha512|md5|blake2b|sha3-256):[0-9a-fA-F]{32,128}$",  # a digest
)


def is_lookalike(secret: str) -> bool:
    """An id that looks random but is no secret, or text already redacted."""
    if MARKER in secret.upper():
        return True
    if any(_re(pattern).search(secret) for pattern in _LOOKALIKES):
        return True
    return _is_base64_text(secret)


def _is_base64_text(secret: str) -> bool:
    """Base64 of ordinary prose (words and spaces), which is no secret."""
    if len(secret) < 16 or len(secret.rstrip("=")) % 4 == 1:
        return False
    import base64
    import binascii

    try:
        text = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    if " " not in text or not text.isprintable():
        return False
    ordinary = sum(char.isalpha() or char in " .,;:'!?-" for char in text)
    return ordinary >= 0.85 * len(text)


# --- the rule table ---

class _Table:
    """The rule table (`secret_rules/table.json`, made by `secret_build` from
    detect-secrets and the rule file it names), read once: `SOURCE`,
    `DETECT_SECRETS`, `ALLOW_REGEXES`, `STOPWORDS`, `SKIPPED`, `KEYWORDS` as
    (keyword, a keyword it holds or None), and `RULES` as (id, regex, keywords,
    entropy, group, allow lists, flags, origin)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.SOURCE = data["source"]
        self.DETECT_SECRETS = data.get("detect_secrets", {})
        self.ALLOW_REGEXES = tuple(data["allow_regexes"])
        self.STOPWORDS = tuple(data["stopwords"])
        self.SKIPPED = data["skipped"]
        self.RULES = tuple((rule_id, regex, tuple(keywords), entropy, group, tuple(allows), flags, origin)
                           for rule_id, regex, keywords, entropy, group, allows, flags, origin in data["rules"])
        # Every keyword, after the one it holds (tested only when that one is in the text).
        self.KEYWORDS = tuple((keyword, within) for keyword, within in data["keywords"])
        # Per rule: the whitespace-free stretch every match holds (`secret_runs`).
        self.RUNS = tuple(data.get("runs") or (0,) * len(self.RULES))


_loaded: list[_Table] = []


def _table() -> _Table:
    if not _loaded:
        from kitty_ops.format import jsontext

        path = os.path.join(os.path.dirname(__file__), "secret_rules", "table.json")
        with open(path, "rb") as handle:
            _loaded.append(_Table(jsontext.loads(handle.read().decode())))
    return _loaded[0]


def _allowed(secret: str, match: str, line: str, allowlists: Iterable[dict[str, Any]],
             allow: tuple[str, ...]) -> bool:
    table = _table()
    lower = secret.lower()
    if any(word in lower for word in table.STOPWORDS):
        return True
    if any(_re(pattern).search(secret) for pattern in table.ALLOW_REGEXES):
        return True
    for allowlist in allowlists:
        target = {"match": match, "line": line}.get(allowlist["target"], secret)
        checks = []
        if allowlist["regexes"]:
            checks.append(any(_re(pattern).search(target) for pattern in allowlist["regexes"]))
        if allowlist["stopwords"]:
            checks.append(any(word in lower for word in allowlist["stopwords"]))
        if checks and (all(checks) if allowlist["and"] else any(checks)):
            return True
    if is_lookalike(secret):
        return True
    return any(_re(pattern).search(secret) for pattern in allow)


def find(text: str, allow: tuple[str, ...] = ()) -> list[Finding]:
    """The secrets in `text`, as (start, end, rule id), in order, never overlapping;
    `allow`: the user's allow-list patterns (Python regexes, searched in the secret)."""
    lower = text.lower()
    if not lower.isascii():  # what re's IGNORECASE takes for i, s and k, and str.lower() does not make them
        lower = lower.replace("\u0307", "").replace("\u0131", "i").replace("\u017f", "s")
    table = _table()
    present = set()
    for keyword, within in table.KEYWORDS:
        if (within is None or within in present) and keyword in lower:
            present.add(keyword)
    found: list[tuple[int, int, int, str]] = []
    longest = -1  # the text's longest stretch without whitespace, measured when a rule asks
    for order, (rule_id, regex, keywords, min_entropy, group, allowlists, flags, _) in enumerate(table.RULES):
        if keywords and present.isdisjoint(keywords):
            continue
        if table.RUNS[order]:
            if longest < 0:
                longest = max(map(len, text.split()), default=0)
            if longest < table.RUNS[order]:
                continue  # no word of the text is long enough to be this secret
        compiled = _re(regex, flags)
        for offset, match in _matches(compiled, text, lower, keywords) if "l" in flags else _whole(compiled, text):
            start, end = _secret_span(match, group)
            if start == end:
                continue
            start, end = start + offset, end + offset
            secret = text[start:end]
            if min_entropy and entropy(secret) < min_entropy:
                continue
            if _allowed(secret, match.group(0), text, allowlists, allow):
                continue
            found.append((start, end, order, rule_id))
    return _merged(found)


def _whole(compiled: re.Pattern[str], text: str) -> Iterator[tuple[int, re.Match[str]]]:
    for match in compiled.finditer(text):
        yield 0, match


def _matches(compiled: re.Pattern[str], text: str, lower: str,
             keywords: tuple[str, ...]) -> Iterator[tuple[int, re.Match[str]]]:
    """(where the line starts, a match in it) in each line of `text` holding a keyword
    (in every line when `lower` is not `text` lower-cased character for character)."""
    if len(lower) != len(text) or not keywords:  # (the only character lower() makes two of is dropped)
        spans, start = [], 0
        for line in text.split("\n"):
            spans.append((start, start + len(line)))
            start += len(line) + 1
    else:
        found = set()
        for keyword in keywords:
            at = lower.find(keyword)
            while at >= 0:
                end = text.find("\n", at)
                end = len(text) if end < 0 else end
                found.add((text.rfind("\n", 0, at) + 1, end))
                at = lower.find(keyword, end + 1)
        spans = sorted(found)
    for start, end in spans:
        for match in compiled.finditer(text[start:end]):
            yield start, match


def _merged(found: list[tuple[int, int, int, str]]) -> list[Finding]:
    """Findings that overlap as one: their union, under the rule of the widest
    (of the first in the table when as wide)."""
    found.sort(key=lambda item: (item[0], item[0] - item[1], item[2]))
    kept: list[Finding] = []
    widest = 0
    for start, end, _, rule_id in found:
        if kept and start < kept[-1][1]:
            first, last, kept_id = kept[-1]
            kept[-1] = (first, max(last, end), rule_id if end - start > widest else kept_id)
            widest = max(widest, end - start)
        else:
            kept.append((start, end, rule_id))
            widest = end - start
    return kept


def _secret_span(match: re.Match[str], group: int) -> tuple[int, int]:
    """Where the secret is in a match: its secret group, else the first group
    that matched, else the whole match (as gitleaks takes it); the whole match
    for group -1."""
    if group < 0:
        return match.span()
    if group and group <= (match.re.groups or 0):
        return match.span(group)
    for index in range(1, (match.re.groups or 0) + 1):
        if match.group(index):
            return match.span(index)
    return match.span()


def redact_text(text: str, allow: tuple[str, ...] = (), token: bool = False) -> tuple[str, list[str]]:
    """(`text` with each secret replaced by `[REDACTED:<rule>]`, the rule ids of
    the secrets replaced). A `token` becomes `REDACTED:<rule>` as a whole."""
    found = find(text, allow)
    if not found:
        return text, []
    ids = [rule_id for _, _, rule_id in found]
    if token:
        return (MARKER + ids[0])[:_TOKEN_LIMIT], ids
    parts, last = [], 0
    for start, end, rule_id in found:
        parts += [text[last:start], f"[{MARKER}{rule_id}]"]
        last = end
    parts.append(text[last:])
    return "".join(parts), ids


def redact_event(event: dict[str, Any], allow: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """(the event with its secrets redacted and `redacted` counting them, the rule
    ids); the same event when it holds none. Every string field is scanned but
    the event type and the Op id (which the rules check themselves)."""
    changed: dict[str, Any] = {}
    ids: list[str] = []
    for name, value in event.items():
        if name in UNSCANNED_FIELDS or not isinstance(value, str):
            continue
        new, found = redact_text(value, allow, token=name in TOKEN_FIELDS)
        if found:
            changed[name] = new
            ids += found
    if not ids:
        return event, []
    return {**event, **changed, COUNT_FIELD: int(event.get(COUNT_FIELD) or 0) + len(ids)}, ids


def strings(value: object, name: str = "") -> Iterator[tuple[str, str]]:
    """(field, text) for every string in a decoded line, nested ones too (the hooks' scan)."""
    todo: list[tuple[str, object]] = [(name, value)]
    while todo:
        where, item = todo.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            todo.extend((f"{where}.{key}" if where else str(key), child) for key, child in item.items())
        elif isinstance(item, list):
            todo.extend((f"{where}[{index}]", child) for index, child in enumerate(item))


def line_secrets(obj: dict[str, Any], allow: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(field, rule id) of each secret in a decoded line (never the secret)."""
    return [(field, rule_id) for field, text in strings(obj) if field not in ("event", "invocation_id")
            for _, _, rule_id in find(text, allow)]


def content_secrets(content: bytes, start: int = 0, allow: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
    """(line number, field, rule id) of each secret in the JSON lines of `content`
    from byte `start` on (a line that is not JSON is the record rules' to report)."""
    from kitty_ops.format.rules import decode_line

    number = content.count(b"\n", 0, start)
    found = []
    for raw in content[start:].splitlines():
        number += 1
        obj, _ = decode_line(raw)
        if obj is not None:
            found += [(number, field, rule) for field, rule in line_secrets(obj, allow)]
    return found


def start_of_new_lines(content: bytes, old: bytes | None) -> int:
    """Where the lines `content` adds to `old` begin (0 when it does not extend it)."""
    return len(old) if old is not None and content.startswith(old) else 0


# --- the settings: `git config kitty-ops.redact` and `kitty-ops.redactAllow` ---

class Policy:
    """Whether to redact, and the user's allow-list patterns."""

    __slots__ = ("enabled", "allow", "problems")

    def __init__(self, enabled: bool = True, allow: tuple[str, ...] = (), problems: tuple[str, ...] = ()):
        self.enabled = enabled
        self.allow = allow
        self.problems = problems  # what was wrong with the settings (a bad pattern is ignored)


def policy_from_config(raw: bytes) -> Policy:
    """The policy in the output of `git config -z --get-regexp` (other keys ignored)."""
    enabled, allow, problems = True, [], []
    for entry in raw.decode("utf-8", "replace").split("\0"):
        key, newline, value = entry.partition("\n")
        key = key.lower()
        if key == REDACT_CONFIG.lower():
            text = value.strip().lower() if newline else "true"
            if text in ("false", "no", "off", "0"):
                enabled = False
            elif text not in ("true", "yes", "on", "1", ""):
                problems.append(f"git config {REDACT_CONFIG}: {value!r} is not true or false; redacting")
        elif key == REDACT_ALLOW_CONFIG.lower() and value:
            try:
                _re(value)
            except Exception as exc:  # re.error: a bad pattern allows nothing
                problems.append(f"git config {REDACT_ALLOW_CONFIG}: {value!r} is not a regex ({exc}); ignored")
                continue
            allow.append(value)
    return Policy(enabled, tuple(allow), tuple(problems))


def config_keys() -> list[str]:
    return [REDACT_CONFIG, REDACT_ALLOW_CONFIG]
