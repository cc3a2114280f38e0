"""Redaction of secrets that agents print into their logs.

Applied to every log message before it is stored. Patterns cover provider API
keys (``sk-ant-...``, ``sk-...``), GitHub tokens (``ghp_...``, ``gho_...``,
``github_pat_...``), this package's API tokens, AWS/Google/Slack keys,
``Bearer``/``Basic`` credentials, passwords in URLs, and assignments to
token-like variables (``OPENAI_API_KEY=...``, ``"password": "..."``, values of
8+ characters, so ``max_tokens: 4096`` survives). A recognisable prefix is
kept, so the log still says what was there.

Terminal escape sequences (colours from ``grep --color=always`` or a test
runner, hyperlinks) are seen through: a line holding one is matched with its
escapes taken out, and when that finds a secret, the line is stored redacted
and without its escapes (a secret may hide between them); other lines keep
theirs.

Log appends are the hot path: each rule names the literals its pattern cannot
match without, and a pattern only runs on lines containing one of them. Most
lines contain none, and cost one search for all the literals at once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["REDACTED", "may_hold_secret", "redact"]

REDACTED = "[REDACTED]"

_SENSITIVE_WORDS = ("token", "secret", "passw", "key", "credential")
_SENSITIVE_NAME = (
    r"[A-Za-z0-9_.-]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIALS?)[A-Za-z0-9_.-]*"
)


class _Rule(NamedTuple):
    triggers: tuple[str, ...]
    """Lowercase literals, one of which every match contains."""
    pattern: re.Pattern[str]
    replacement: str


def _rule(triggers: tuple[str, ...], pattern: str) -> _Rule:
    """A rule whose pattern keeps its ``keep`` group and redacts what follows."""
    return _Rule(triggers, re.compile(pattern), rf"\g<keep>{REDACTED}")


_RULES = (
    # scheme://user:password@host; first, so a user name like x-access-token
    # does not make the assignment rule below take the host for the value.
    _rule(("://",), r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)"),
    # NAME=value, NAME: value, "name": "value" where NAME looks like a secret's name.
    _Rule(
        _SENSITIVE_WORDS,
        re.compile(
            rf"""(?i)(?P<keep>\b{_SENSITIVE_NAME}["']?\s*[:=]\s*)(?P<quote>["']?)(?!\[REDACTED\])"""
            r"""[^\s"',;&]{8,}(?P=quote)"""
        ),
        rf"\g<keep>\g<quote>{REDACTED}\g<quote>",
    ),
    _rule(("bearer",), r"(?i)\b(?P<keep>Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    _rule(("basic",), r"(?i)\b(?P<keep>Basic\s+)[A-Za-z0-9+/=]{8,}"),
    _rule(("sk-",), r"\b(?P<keep>sk-ant-)[A-Za-z0-9_-]{8,}"),
    _rule(("sk-",), r"\b(?P<keep>sk-(?:proj-|svcacct-)?)[A-Za-z0-9_-]{16,}"),
    _rule(("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"\b(?P<keep>gh[pousr]_)[A-Za-z0-9]{16,}"),
    _rule(("github_pat_",), r"\b(?P<keep>github_pat_)[A-Za-z0-9_]{16,}"),
    _rule(("cadb_",), r"\b(?P<keep>cadb_)[A-Za-z0-9]{16,}"),
    _rule(("akia",), r"\b(?P<keep>AKIA)[0-9A-Z]{16}\b"),
    _rule(("aiza",), r"\b(?P<keep>AIza)[0-9A-Za-z_-]{30,}"),
    _rule(("xox",), r"\b(?P<keep>xox[abposr]-)[A-Za-z0-9-]{10,}"),
)


_ANY_TRIGGER = re.compile(
    "|".join(sorted({re.escape(trigger) for rule in _RULES for trigger in rule.triggers}))
)


# CSI (colours, cursor), OSC (titles, hyperlinks; ended by BEL or ST), and
# the two-character escapes.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``."""
    if "\x1b" in text or "\x9b" in text:
        plain = _ESCAPE.sub("", text)
        redacted = _redact_plain(plain)
        return text if redacted == plain else redacted
    return _redact_plain(text)


def may_hold_secret(text: str) -> bool:
    """Whether ``text`` holds a literal some secret pattern starts from (cheap; no pattern runs)."""
    return _ANY_TRIGGER.search(text.lower()) is not None


def _redact_plain(text: str) -> str:
    lowered = text.lower()
    if _ANY_TRIGGER.search(lowered) is None:
        return text
    for rule in _RULES:
        if any(trigger in lowered for trigger in rule.triggers):
            text = rule.pattern.sub(rule.replacement, text)
    return text
