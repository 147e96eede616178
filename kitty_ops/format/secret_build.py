"""Build `secret_rules/table.json`, the rule table `kitty_ops.format.secrets` runs, from
the installed detect-secrets' regex plugins (the maintained source, see
`secret_sources`) and a rule file in gitleaks' schema (`secret_rules/rules.toml`
by default: kitty-ops' supplement), and copy detect-secrets' licence beside it.

Run at build time, never by start or complete (which would pay for TOML and
detect-secrets): `python -m kitty_ops.format.secret_build [RULES.toml]`. A test
holds the checked-in table equal to what this makes of both. detect-secrets'
rules come first: where a supplement rule finds the same secret, the engine
reports detect-secrets' rule, unless the supplement's match is wider.

gitleaks' regexes are Go RE2; Python's `re` reads most of them as they are.
What differs is translated here: a flag group such as `(?i)` that is not at
the start (Python wants global flags first) becomes a scoped `(?i:...)` to the
end of its group, POSIX classes (`[[:alnum:]]`) become ranges, `\\z` becomes
`\\Z`. A rule that still does not compile, or that matches on file paths only,
is skipped, and listed in the table (`SKIPPED`) with the reason.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys

from kitty_ops.format import secret_runs, secret_sources

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(HERE, "secret_rules", "rules.toml")
TABLE_PATH = os.path.join(HERE, "secret_rules", "table.json")
# The flags every rule is compiled with: RE2's \w, \d, \s and \b are ASCII.
FLAGS = re.ASCII

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_INLINE_FLAGS = re.compile(r"\(\?([imsU]+)\)")


def _group_end(pattern: str, start: int) -> int:
    """The index of the `)` that closes the group `start` is in (len for the top level)."""
    depth, index, in_class = 0, start, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[index + 1:index + 2] == "]":
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return len(pattern)


def translate(pattern: str) -> str:
    """A Go RE2 pattern as a Python `re` pattern (ValueError for what has no translation)."""
    if "\\p{" in pattern or "\\pL" in pattern or "\\P{" in pattern or "\\Q" in pattern:
        raise ValueError("Unicode classes (\\p) and \\Q...\\E have no equivalent in Python's re")
    if "(?U" in pattern:
        raise ValueError("the ungreedy flag U has no equivalent in Python's re")
    pattern = re.sub(r"\[:(\^?)([a-z]+):\]", lambda m: _posix(m.group(1), m.group(2)), pattern)
    pattern = pattern.replace("\\z", "\\Z")
    while True:
        found = [m for m in _INLINE_FLAGS.finditer(pattern) if m.start() > 0]
        if not found:
            return pattern
        match = found[0]
        end = _group_end(pattern, match.end())
        pattern = f"{pattern[:match.start()]}(?{match.group(1)}:{pattern[match.end():end]}){pattern[end:]}"


def _posix(negated: str, name: str) -> str:
    if negated or name not in _POSIX:
        raise ValueError(f"the POSIX class [:{negated}{name}:] is not translated")
    return _POSIX[name]


def _allowlist(entry: dict[str, Any]) -> dict[str, Any] | None:
    """A rule's allow list as the table keeps it; None when it is about paths or commits only."""
    regexes = [translate(text) for text in entry.get("regexes", [])]
    for text in regexes:
        re.compile(text, FLAGS)
    stopwords = [word.lower() for word in entry.get("stopwords", [])]
    if not regexes and not stopwords:
        return None
    return {
        "regexes": regexes,
        "stopwords": stopwords,
        "target": entry.get("regexTarget", "secret"),
        "and": str(entry.get("condition", "OR")).upper() == "AND",
    }


def build(source: str = DEFAULT_SOURCE, detect_secrets: bool = True) -> dict[str, Any]:
    """The table of detect-secrets' regex plugins (unless not `detect_secrets`) and of
    the rule file `source`: their rules, skipped rules and the file's global allow list."""
    import tomllib  # Python 3.11+: a build-time tool

    with open(source, "rb") as handle:
        data = handle.read()
    config = tomllib.loads(data.decode())
    rules: list[tuple[Any, ...]] = []
    skipped: dict[str, str] = {}
    origin = os.path.basename(source)
    for rule in config.get("rules", []):
        rule_id = rule["id"]
        if not rule.get("regex"):
            skipped[rule_id] = "matches file paths only"
            continue
        try:
            regex = translate(rule["regex"])
            re.compile(regex, FLAGS)
            allowlists = [a for a in map(_allowlist, rule.get("allowlists", [])) if a is not None]
        except (ValueError, re.error) as exc:
            skipped[rule_id] = f"does not compile in Python: {exc}"
            continue
        keywords = sorted({word.lower() for word in rule.get("keywords", [])})
        rules.append((rule_id, regex, tuple(keywords), float(rule.get("entropy", 0.0)),
                      int(rule.get("secretGroup", 0)), tuple(allowlists), "a", origin))
    glob = config.get("allowlist") or {}
    global_regexes = []
    for text in glob.get("regexes", []):
        try:
            global_regexes.append(re.compile(translate(text), FLAGS).pattern)
        except (ValueError, re.error) as exc:
            skipped[f"allowlist:{text}"] = f"does not compile in Python: {exc}"
    head: dict[str, Any] = {}
    if detect_secrets:
        derived = secret_sources.detect_secrets_rules()
        rules = derived["rules"] + rules
        skipped = {**derived["skipped"], **skipped}
        licence = os.path.relpath(secret_sources.LICENCE_PATH, os.path.dirname(HERE)).replace(os.sep, "/")
        head["detect_secrets"] = {"version": derived["version"], "plugins": derived["plugins"], "licence": licence}
    return {
        **head,
        "keywords": keyword_tree(rules),
        "runs": [secret_runs.solid_run(rule[1], secret_sources.flags_value(rule[6])) for rule in rules],
        "source": {
            "file": os.path.relpath(source, os.path.dirname(HERE)).replace(os.sep, "/"),
            "title": config.get("title", ""),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        "rules": rules,
        "skipped": skipped,
        "allow_regexes": global_regexes,
        "stopwords": sorted({word.lower() for word in glob.get("stopwords", [])}),
    }


def keyword_tree(rules: list[tuple[Any, ...]]) -> list[tuple[str, str | None]]:
    """Every keyword of `rules` with the longest other keyword it holds (None when it
    holds none), each after that one: the engine tests a keyword only when the one it
    holds is in the text, which spares most of the substring searches in a long text.
    Keywords that begin alike and hold no other get their common prefix as one more."""
    words = {word for rule in rules for word in rule[2]}
    alike: dict[str, list[str]] = {}
    for word in words:
        if len(word) > 3 and not any(other in word for other in words if other != word):
            alike.setdefault(word[:2], []).append(word)
    words |= {os.path.commonprefix(group) for group in alike.values() if len(group) > 1}  # noqa: RUF071 (characters)
    ordered = sorted(words, key=lambda word: (len(word), word))
    tree = []
    for index, word in enumerate(ordered):
        held = [other for other in ordered[:index] if other in word and other != word]
        tree.append((word, max(held, key=lambda other: (len(other), other)) if held else None))
    return tree


def render(table: dict[str, Any]) -> str:
    """The text of `secret_rules/table.json` for `table`: one rule a line, so that
    a change to the rules reads as a change to those lines."""
    import json

    head = {key: value for key, value in table.items() if key != "rules"}
    rules = ",\n".join("    " + json.dumps(list(rule), ensure_ascii=False) for rule in table["rules"])
    return json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1] + ', "rules": [\n' + rules + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    table = build(args[0] if args else DEFAULT_SOURCE)
    with open(TABLE_PATH, "w", encoding="utf-8") as handle:
        handle.write(render(table))
    with open(secret_sources.LICENCE_PATH, "wb") as binary:
        binary.write(secret_sources.installed_licence())
    print(f"{secret_sources.LICENCE_PATH}: {secret_sources.DISTRIBUTION} {table['detect_secrets']['version']}")
    print(f"{TABLE_PATH}: {len(table['rules'])} rules, {len(table['skipped'])} skipped")
    for rule_id, reason in sorted(table["skipped"].items()):
        print(f"  skipped {rule_id}: {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
