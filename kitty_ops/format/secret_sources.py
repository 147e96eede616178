"""The maintained rule source of `secret_rules/table.json`: detect-secrets' regex plugins.

Run at build time only (`kitty_ops.format.secret_build`): importing
detect-secrets costs about 100 ms, which `start` and `complete` cannot pay.
Every `RegexBasedDetector` plugin of the installed detect-secrets
(https://github.com/Yelp/detect-secrets, Apache-2.0; its licence ships as
`secret_rules/detect-secrets.LICENSE`) gives one rule per pattern of its
`denylist`, the pattern and its flags as they are, under an id made from the
plugin's `secret_type` ("AWS Access Key" -> `aws-access-key`), or the id
kitty-ops had where one plugin maps to one of its rules. Derived here:

* the keywords, for the engine's prefilter: literal strings one of which any
  match holds (from the parsed pattern), lower-cased;
* whether to match it line by line, as detect-secrets does (flag letter `l`),
  where that finds other than matching the whole text would (`^`, `\\s`...);
* the secret's place: the plugin's capture group where it holds the value,
  else the whole match (GitHub's and GitLab's groups hold only the prefix,
  which would leave the token itself in the text).

The plugins that are not regex-based, or that kitty-ops does not run, are
listed as skipped with the reason.
"""
from __future__ import annotations

import importlib
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Strings = frozenset[str]

DISTRIBUTION = "detect-secrets"
LICENCE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "secret_rules", "detect-secrets.LICENSE")
# Where one plugin maps to one rule kitty-ops had, its id is kept.
KEPT_IDS = {
    "BasicAuthDetector": "url-password",
    "JwtTokenDetector": "jwt",
    "NpmDetector": "npm-access-token",
    "OpenAIDetector": "openai-api-key",
    "PrivateKeyDetector": "private-key",
    "PypiTokenDetector": "pypi-upload-token",
    "SendGridDetector": "sendgrid-api-token",
    "StripeDetector": "stripe-access-token",
    "TelegramBotTokenDetector": "telegram-bot-api-token",
}
# Regex plugins kitty-ops does not run, and why.
NOT_RUN = {
    "IPPublicDetector": "a public IP address is no credential, and the pattern also takes four-part version "
                        "numbers (1.2.3.4) in ordinary evidence",
}
NOT_REGEX = {  # the plugins that are not regex-based, by class name
    "Base64HighEntropyString": "it flags any base64 string random enough, as ULIDs and digests are",
    "HexHighEntropyString": "it flags any hex string random enough, as git object ids and digests are",
    "KeywordDetector": "its keyword and value heuristics are code, not patterns (kitty-ops' supplement has "
                       "password-assignment and generic-api-key for them)",
}
# A capture group that cannot hold this many characters is a prefix, not the secret.
MIN_SECRET_WIDTH = 8
_FLAG_LETTERS = (("a", re.ASCII), ("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL),
                 ("u", re.UNICODE), ("x", re.VERBOSE))
_MAX_STRINGS = 16  # the most keywords a rule gets (each is one substring test per text)
_CLASS_CHARS = 6  # a character class of at most this many literal characters is expanded


def slug(text: str) -> str:
    """`AWS Access Key` -> `aws-access-key`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def flag_letters(flags: int) -> str:
    """The flags of a compiled pattern as inline-flag letters (`re.I | re.U` -> `iu`)."""
    if flags & re.LOCALE:
        raise ValueError("the LOCALE flag is not supported")
    return "".join(letter for letter, flag in _FLAG_LETTERS if flags & flag)


def flags_value(letters: str) -> int:
    """The inverse of `flag_letters`."""
    value = 0
    for letter, flag in _FLAG_LETTERS:
        if letter in letters:
            value |= flag
    return value


# --- keywords: literal strings one of which every match holds ---
#
# As Google's codesearch does for trigrams: each node of the parsed pattern gets
# `exact` (the strings it matches, when few and known), `prefix` and `suffix`
# (strings every match starts or ends with one of) and `match` (strings every
# match holds one of); a set holding "" says nothing. Lower-cased, as the engine
# tests them against the lower-cased text.

class _Info:
    __slots__ = ("exact", "prefix", "suffix", "match")

    def __init__(self, exact: Strings | None, prefix: Strings, suffix: Strings, match: Strings) -> None:
        self.exact, self.prefix, self.suffix, self.match = exact, prefix, suffix, match


_NOTHING = frozenset({""})
_ANY = _Info(None, _NOTHING, _NOTHING, _NOTHING)


def _exact(strings: Strings) -> _Info:
    return _Info(strings, strings, strings, strings)


def _product(left: Strings, right: Strings) -> Strings | None:
    if len(left) * len(right) > _MAX_STRINGS:
        return None
    return frozenset(a + b for a in left for b in right)


def _best(*sets: Strings | None) -> Strings:
    """The most selective set: longest shortest string, then fewest strings."""
    known = [_minimal(s) for s in sets if s is not None]
    return max(known, key=lambda s: (min(map(len, s)), -len(s)))


def _minimal(strings: Strings) -> Strings:
    """`strings` without those that hold another (which the other's test already covers)."""
    return frozenset(s for s in strings if not any(o != s and o in s for o in strings))


def _concat(left: _Info, right: _Info) -> _Info:
    exact = _product(left.exact, right.exact) if left.exact is not None and right.exact is not None else None
    if exact is not None:
        return _exact(exact)
    prefix = (_product(left.exact, right.prefix) if left.exact is not None else left.prefix) or left.prefix
    suffix = (_product(left.suffix, right.exact) if right.exact is not None else right.suffix) or right.suffix
    joined = _product(left.suffix, right.prefix)
    return _Info(None, prefix, suffix, _best(left.match, right.match, joined, prefix, suffix))


def _alternate(infos: list[_Info]) -> _Info:
    if all(info.exact is not None for info in infos):
        exact = frozenset().union(*(info.exact or () for info in infos))
        if len(exact) <= _MAX_STRINGS:
            return _exact(exact)

    def union(name: str) -> Strings:
        found = frozenset().union(*(getattr(info, name) for info in infos))
        return found if len(found) <= _MAX_STRINGS else _NOTHING

    return _Info(None, union("prefix"), union("suffix"), union("match"))


def _info(items: Any) -> _Info:
    """The summary of a parsed (sub)pattern: a list of (opcode, argument)."""
    constants = importlib.import_module("re._constants")
    result = _exact(_NOTHING)
    for op, av in items:
        if op is constants.LITERAL and av < 128:
            info = _exact(frozenset({chr(av).lower()}))
        elif op is constants.IN and 0 < len(av) <= _CLASS_CHARS and all(
                o is constants.LITERAL and a < 128 for o, a in av):
            info = _exact(frozenset(chr(a).lower() for _, a in av))
        elif op in (constants.AT, constants.ASSERT, constants.ASSERT_NOT):
            info = _exact(_NOTHING)  # zero-width: nothing of the match
        elif op is constants.SUBPATTERN:
            info = _info(av[3])
        elif op is constants.ATOMIC_GROUP:
            info = _info(av)
        elif op is constants.BRANCH:
            info = _alternate([_info(branch) for branch in av[1]])
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
            low, high, body = av
            inner = _info(body)
            if low == high == 1:
                info = inner
            elif low == 0:
                info = _ANY
            else:
                info = _Info(None, inner.prefix, inner.suffix, _best(inner.match, inner.exact))
        else:  # any other character, class, back reference or conditional
            info = _ANY
        result = _concat(result, info)
    return result


def keywords(pattern: str, flags: int) -> list[str]:
    """Lower-cased strings one of which every match of `pattern` holds ([] when none is known)."""
    parser = importlib.import_module("re._parser")
    info = _info(parser.parse(pattern, flags))
    found = _best(info.match, info.exact, info.prefix, info.suffix)
    return [] if "" in found else sorted(found)


# --- lines: detect-secrets scans a file line by line ---

def _takes_newline(items: Any, dotall: bool) -> bool:
    """Whether a parsed (sub)pattern may take a newline or anchor at a line's or the
    text's edge: where matching each line alone differs from matching the text."""
    c = importlib.import_module("re._constants")
    newline_categories = {c.CATEGORY_SPACE, c.CATEGORY_NOT_DIGIT, c.CATEGORY_NOT_WORD, c.CATEGORY_LINEBREAK,
                          c.CATEGORY_UNI_SPACE, c.CATEGORY_UNI_NOT_DIGIT, c.CATEGORY_UNI_NOT_WORD,
                          c.CATEGORY_UNI_LINEBREAK}
    for op, av in items:
        nested: list[Any] = []
        inner = dotall
        if op is c.LITERAL:
            takes = av == 10
        elif op is c.NOT_LITERAL:
            takes = av != 10
        elif op is c.ANY:
            takes = dotall
        elif op is c.AT:
            takes = av not in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY, c.AT_UNI_BOUNDARY, c.AT_UNI_NON_BOUNDARY)
        elif op is c.IN:
            negated = any(o is c.NEGATE for o, _ in av)
            takes = negated != any((o is c.LITERAL and a == 10) or (o is c.RANGE and a[0] <= 10 <= a[1])
                                   or (o is c.CATEGORY and a in newline_categories) for o, a in av)
        elif op in (c.GROUPREF, c.GROUPREF_EXISTS, c.GROUPREF_IGNORE):
            takes = True
        else:
            takes = False
            if op is c.SUBPATTERN:
                nested, inner = [av[3]], dotall or bool(av[1] & re.DOTALL)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                nested = [av[2]]
            elif op in (c.ASSERT, c.ASSERT_NOT):
                nested = [av[1]]
            elif op is c.ATOMIC_GROUP:
                nested = [av]
            elif op is c.BRANCH:
                nested = list(av[1])
        if takes or any(_takes_newline(part, inner) for part in nested):
            return True
    return False


def by_line(pattern: str, flags: int) -> bool:
    """Whether the engine must match `pattern` line by line, as detect-secrets does, to
    find what it finds (the text as a whole is the same, and faster, otherwise)."""
    parser = importlib.import_module("re._parser")
    return _takes_newline(parser.parse(pattern, flags), bool(flags & re.DOTALL))


def secret_group(pattern: str, flags: int) -> int:
    """The group the engine takes the secret from: 0 (its first group that matched, as
    detect-secrets reports it; the match when it has none) or -1 (the whole match,
    when the first group cannot hold a secret: a prefix such as `ghp`)."""
    compiled = re.compile(pattern, flags)
    if not compiled.groups:
        return 0
    parser = importlib.import_module("re._parser")
    constants = importlib.import_module("re._constants")
    todo = list(parser.parse(pattern, flags))
    while todo:
        op, av = todo.pop(0)
        if op is constants.SUBPATTERN and av[0] == 1:
            return 0 if av[3].getwidth()[1] >= MIN_SECRET_WIDTH else -1
        if op is constants.SUBPATTERN:
            todo[:0] = list(av[3])
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
            todo[:0] = list(av[2])
        elif op is constants.BRANCH:
            todo[:0] = [item for branch in av[1] for item in branch]
        elif op in (constants.ASSERT, constants.ASSERT_NOT):
            todo[:0] = list(av[1])
    return -1


# --- detect-secrets ---

def installed_version() -> str:
    from importlib import metadata

    return metadata.version(DISTRIBUTION)


def installed_licence() -> bytes:
    """The licence file of the installed detect-secrets distribution."""
    from importlib import metadata

    distribution = metadata.distribution(DISTRIBUTION)
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING", "licenses/LICENSE"):
        text = distribution.read_text(name)
        if text is not None:
            return text.encode()
    raise FileNotFoundError(f"{DISTRIBUTION} {distribution.version}: no licence file in its dist-info")


def detect_secrets_rules() -> dict[str, Any]:
    """The rules, by plugin, of the installed detect-secrets: {"version", "plugins"
    (class name -> rule id), "rules" (as the table keeps them), "skipped"}."""
    try:
        util = importlib.import_module("detect_secrets.core.plugins.util")
        base = importlib.import_module("detect_secrets.plugins.base")
    except ImportError as exc:
        raise SystemExit(f"building the secret rules needs {DISTRIBUTION} installed "
                         f"(pip install -e '.[test]'): {exc}") from exc
    version = installed_version()
    origin = f"{DISTRIBUTION} {version}"
    rules: list[tuple[Any, ...]] = []
    plugins, skipped = {}, {}
    mapping = util.get_mapping_from_secret_type_to_class()
    for plugin in sorted(mapping.values(), key=lambda cls: cls.__name__):
        name = plugin.__name__
        if not issubclass(plugin, base.RegexBasedDetector):
            reason = NOT_REGEX.get(name, "its own code, not a pattern list, finds the secret")
            skipped[f"{DISTRIBUTION}:{name}"] = f"{origin}: not regex-based: {reason}"
            continue
        if name in NOT_RUN:
            skipped[f"{DISTRIBUTION}:{name}"] = f"{origin}: {NOT_RUN[name]}"
            continue
        rule_id = KEPT_IDS.get(name) or slug(plugin.secret_type)
        plugins[name] = rule_id
        for compiled in plugin.denylist:
            pattern, flags = compiled.pattern, compiled.flags
            letters = flag_letters(flags) + ("l" if by_line(pattern, flags) else "")
            rules.append((rule_id, pattern, tuple(keywords(pattern, flags)), 0.0, secret_group(pattern, flags),
                          (), letters, f"{origin} {name}"))
    return {"version": version, "plugins": plugins, "rules": rules, "skipped": skipped}
