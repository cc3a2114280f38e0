"""Redaction of secrets that agents print into their logs.

Applied to every log message before it is stored. Patterns cover provider API
keys (``sk-ant-...``, ``sk-...``), GitHub tokens (``ghp_...``, ``gho_...``,
``github_pat_...``), this package's API tokens, ``Bearer`` credentials,
passwords in URLs, and assignments to token-like variables
(``OPENAI_API_KEY=...``, ``"password": "..."``, values of 8+ characters, so
``max_tokens: 4096`` survives). A recognisable prefix is kept so the log still
says what was there.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact"]

REDACTED = "[REDACTED]"

_SENSITIVE_NAME = (
    r"[A-Za-z0-9_.-]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIALS?)[A-Za-z0-9_.-]*"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # NAME=value, NAME: value, "name": "value" where NAME looks like a secret's name.
    (
        re.compile(
            rf"""(?i)(?P<keep>\b{_SENSITIVE_NAME}["']?\s*[:=]\s*)(?P<quote>["']?)(?!\[REDACTED\])"""
            r"""[^\s"',;&]{8,}(?P=quote)"""
        ),
        rf"\g<keep>\g<quote>{REDACTED}\g<quote>",
    ),
    (re.compile(r"(?i)\b(?P<keep>Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"(?i)\b(?P<keep>Basic\s+)[A-Za-z0-9+/=]{8,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>sk-ant-)[A-Za-z0-9_-]{8,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>sk-(?:proj-|svcacct-)?)[A-Za-z0-9_-]{16,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>gh[pousr]_)[A-Za-z0-9]{16,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>github_pat_)[A-Za-z0-9_]{16,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>cadb_)[A-Za-z0-9]{16,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>AKIA)[0-9A-Z]{16}\b"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>AIza)[0-9A-Za-z_-]{30,}"), rf"\g<keep>{REDACTED}"),
    (re.compile(r"\b(?P<keep>xox[abposr]-)[A-Za-z0-9-]{10,}"), rf"\g<keep>{REDACTED}"),
    # scheme://user:password@host
    (
        re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)"),
        rf"\g<keep>{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
