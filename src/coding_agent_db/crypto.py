"""Secrets at rest: authenticated encryption bound to its owner.

Format (the default, ``ENCRYPTION_FORMAT=authenticated``)::

    v1:<key id>:<base64url(nonce || ciphertext || tag)>

AES-256-GCM with a random 96-bit nonce. ``<key id>`` is 8 hex characters of
SHA-256 over the key, naming the key without revealing it. The associated
data binds the value to where it belongs: table, column, owning user_id and
the row's key within the user (the provider of a key, the id of a connector).
A value moved to another row or user, or altered in any bit, fails to decrypt
with ``DecryptionError``; it never decrypts to something else.

The payload is canonical unpadded base64url: anything appended (``=``, a
newline, a colon) or unused low bits set is refused, so "altered in any bit
raises" holds for the text as stored, not only for the decoded bytes.

Legacy format, written by the TypeScript app: ``<iv hex>:<ciphertext hex>``,
AES-256-CBC with PKCS#7 padding and a 16-byte IV, unauthenticated. It names
no key, so every configured key is tried; a value that more than one key
opens to valid text is refused (DecryptionError), never guessed: a wrong key
yields valid padding and UTF-8 for about one short value in two million.
``ENCRYPTION_FORMAT=legacy`` makes new writes use it too, for as long as a
database is shared with the TypeScript app. ``ENCRYPTION_LEGACY_READS=off``
refuses legacy values altogether, once ``rotate_keys`` has rewritten them all
(``rotation.count_legacy_secrets`` says when): an old ciphertext from a
backup, planted into another user's row, is then not revealed.

Keys: ``ENCRYPTION_KEY`` (64 hex characters) encrypts; values written under
any key of ``ENCRYPTION_KEYS_PREVIOUS`` (comma-separated) still decrypt.
``rotation.rotate_keys()`` rewrites every value under the current key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from typing import Literal, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from coding_agent_db.config import env
from coding_agent_db.errors import ConfigurationError, DecryptionError

__all__ = [
    "Keyring",
    "SecretContext",
    "decrypt",
    "decrypt_optional",
    "encrypt",
    "encrypt_optional",
    "keyring",
    "mask",
]

KEY_VARIABLE = "ENCRYPTION_KEY"
PREVIOUS_KEYS_VARIABLE = "ENCRYPTION_KEYS_PREVIOUS"
FORMAT_VARIABLE = "ENCRYPTION_FORMAT"
LEGACY_READS_VARIABLE = "ENCRYPTION_LEGACY_READS"
KEY_HOWTO = 'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'

Format = Literal["authenticated", "legacy"]

_V1_PREFIX = "v1:"
_NONCE_BYTES = 12
_LEGACY = re.compile(r"(?P<iv>[0-9a-fA-F]{32}):(?P<ct>(?:[0-9a-fA-F]{32})+)")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_ON = ("on", "true", "1", "yes")
_OFF = ("off", "false", "0", "no")


class SecretContext(NamedTuple):
    """Where an encrypted value belongs; bound into its ciphertext."""

    table: str
    column: str
    user_id: str
    row_key: str = ""

    def associated_data(self) -> bytes:
        parts = ("coding-agent-db", "v1", self.table, self.column, self.user_id, self.row_key)
        # Length-prefixed, so no choice of values can make two contexts equal.
        return b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


class _Key:
    """An AES-256 key; its repr shows only the key id."""

    __slots__ = ("_aead", "_raw", "id")

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._aead = AESGCM(raw)
        self.id = hashlib.sha256(b"coding-agent-db key id\x00" + raw).hexdigest()[:8]

    def __repr__(self) -> str:
        return f"<encryption key {self.id}>"

    def seal(self, plaintext: bytes, context: SecretContext) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, context.associated_data())
        payload = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{_V1_PREFIX}{self.id}:{payload}"

    def open(self, payload: bytes, context: SecretContext) -> bytes:
        return self._aead.decrypt(
            payload[:_NONCE_BYTES], payload[_NONCE_BYTES:], context.associated_data()
        )

    def legacy_seal(self, plaintext: bytes) -> str:
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._raw), modes.CBC(iv)).encryptor()
        return f"{iv.hex()}:{(encryptor.update(padded) + encryptor.finalize()).hex()}"

    def legacy_open(self, iv: bytes, ciphertext: bytes) -> bytes | None:
        decryptor = Cipher(algorithms.AES(self._raw), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            return None


_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{8}")


def _parse_key(text: str, variable: str) -> _Key:
    text = text.strip()
    if len(text) != 64:
        raise ConfigurationError(
            f"{variable} must be 64 hex characters (32 bytes), got {len(text)}; {KEY_HOWTO}"
        )
    # Not bytes.fromhex alone: it skips inner whitespace, and would turn 64
    # characters with spaces into a shorter (AES-192) key.
    if _HEX_KEY.fullmatch(text) is None:
        raise ConfigurationError(f"{variable} must be hexadecimal; {KEY_HOWTO}")
    return _Key(bytes.fromhex(text))


class Keyring:
    """The current key, the previous keys, and the format new values are written in."""

    def __init__(
        self,
        current: _Key,
        previous: tuple[_Key, ...] = (),
        fmt: Format = "authenticated",
        *,
        legacy_reads: bool = True,
    ):
        self.current = current
        self.previous = previous
        self.format: Format = fmt
        self.legacy_reads = legacy_reads
        self._by_id = {key.id: key for key in (*reversed(previous), current)}
        # Each key once (a key listed twice is not two keys opening a value).
        self._distinct = tuple({key.id: key for key in (current, *previous)}.values())

    def __repr__(self) -> str:
        previous = len(self.previous)
        return f"<Keyring current={self.current.id} previous={previous} format={self.format}>"

    @classmethod
    def from_config(
        cls,
        current: str | None,
        previous: str | None,
        fmt: str | None,
        legacy_reads: str | None = None,
    ) -> Keyring:
        """The keyring of given ENCRYPTION_KEY, _KEYS_PREVIOUS, _FORMAT and _LEGACY_READS values.

        ConfigurationError, naming the variable, when one is missing or malformed.
        """
        if current is None:
            raise ConfigurationError(f"{KEY_VARIABLE} is not set; {KEY_HOWTO}")
        old = tuple(
            _parse_key(part, f"{PREVIOUS_KEYS_VARIABLE} (entry {n})")
            for n, part in enumerate((previous or "").split(","), start=1)
            if part.strip()
        )
        fmt = (fmt or "authenticated").strip().lower()
        if fmt not in ("authenticated", "legacy"):
            raise ConfigurationError(f"{FORMAT_VARIABLE} must be 'authenticated' or 'legacy'")
        reads = (legacy_reads or "on").strip().lower()
        if reads not in (*_ON, *_OFF):
            raise ConfigurationError(f"{LEGACY_READS_VARIABLE} must be 'on' or 'off'")
        if reads in _OFF and fmt == "legacy":
            raise ConfigurationError(
                f"{LEGACY_READS_VARIABLE}=off cannot read what {FORMAT_VARIABLE}=legacy writes"
            )
        return cls(
            _parse_key(current, KEY_VARIABLE),
            old,
            fmt,  # type: ignore[arg-type]
            legacy_reads=reads in _ON,
        )

    def encrypt(self, plaintext: str, context: SecretContext) -> str:
        """``plaintext`` encrypted under the current key, in the configured format."""
        data = plaintext.encode()
        if self.format == "legacy":
            return self.current.legacy_seal(data)
        return self.current.seal(data, context)

    def decrypt(self, stored: str, context: SecretContext) -> str:
        """The plaintext of ``stored``; DecryptionError if it cannot be trusted."""
        if stored.startswith(_V1_PREFIX):
            plaintext = self._open_v1(stored, context)
        else:
            plaintext = self._open_legacy(stored, context)
        try:
            return plaintext.decode()
        except UnicodeDecodeError:
            raise DecryptionError(f"{context}: decrypted value is not text") from None

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` is already in the configured format under the current key."""
        if self.format == "legacy":
            return False  # legacy values do not name their key: always rewrite
        return stored.startswith(f"{_V1_PREFIX}{self.current.id}:")

    def _open_v1(self, stored: str, context: SecretContext) -> bytes:
        _, key_id, payload = stored.split(":", 2) if stored.count(":") >= 2 else ("", "", "")
        if _KEY_ID.fullmatch(key_id) is None:
            raise DecryptionError(f"{context}: malformed ciphertext")
        key = self._by_id.get(key_id)
        if key is None:
            raise DecryptionError(
                f"{context}: written under key {key_id!r}, which is neither "
                f"{KEY_VARIABLE} nor in {PREVIOUS_KEYS_VARIABLE}"
            )
        raw = _strict_base64url(payload)
        if raw is None:
            raise DecryptionError(f"{context}: malformed ciphertext")
        try:
            return key.open(raw, context)
        except (InvalidTag, ValueError):
            raise DecryptionError(
                f"{context}: authentication failed (altered, or moved from another row or user)"
            ) from None

    def _open_legacy(self, stored: str, context: SecretContext) -> bytes:
        match = _LEGACY.fullmatch(stored)
        if match is None:
            raise DecryptionError(f"{context}: not a recognised ciphertext format")
        if not self.legacy_reads:
            raise DecryptionError(
                f"{context}: a legacy (unauthenticated) value, and {LEGACY_READS_VARIABLE} is off"
            )
        iv, ciphertext = bytes.fromhex(match["iv"]), bytes.fromhex(match["ct"])
        # The legacy format names no key: every key is tried, and a value two
        # keys open is refused rather than guessed.
        opened = [
            plaintext
            for key in self._distinct
            if (plaintext := key.legacy_open(iv, ciphertext)) is not None and _is_utf8(plaintext)
        ]
        if len(opened) > 1:
            raise DecryptionError(
                f"{context}: legacy value opens under more than one configured key; "
                "refusing to guess (store it again from its source)"
            )
        if not opened:
            raise DecryptionError(
                f"{context}: legacy value does not decrypt under any configured key"
            )
        return opened[0]


def _strict_base64url(text: str) -> bytes | None:
    """The bytes of canonical unpadded base64url ``text``, else None (nothing lenient)."""
    if _BASE64URL.fullmatch(text) is None or len(text) % 4 == 1:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    # Unused low bits of the last character must be zero: one text per value.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != text:
        return None
    return raw


def is_legacy_value(stored: str) -> bool:
    """Whether ``stored`` is in the legacy (TypeScript app's, unauthenticated) format."""
    return not stored.startswith(_V1_PREFIX)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


_cache: tuple[tuple[str | None, ...], Keyring] | None = None


def keyring() -> Keyring:
    """The keyring of the current configuration (rebuilt when the variables change)."""
    global _cache
    config = (
        env(KEY_VARIABLE),
        env(PREVIOUS_KEYS_VARIABLE),
        env(FORMAT_VARIABLE),
        env(LEGACY_READS_VARIABLE),
    )
    if _cache is None or _cache[0] != config:
        _cache = (config, Keyring.from_config(*config))
    return _cache[1]


def encrypt(plaintext: str, context: SecretContext) -> str:
    """Encrypt with the configured keyring."""
    return keyring().encrypt(plaintext, context)


def decrypt(stored: str, context: SecretContext) -> str:
    """Decrypt with the configured keyring; DecryptionError if it cannot be trusted."""
    return keyring().decrypt(stored, context)


def encrypt_optional(plaintext: str | None, context: SecretContext) -> str | None:
    """``encrypt`` for a nullable column: None stays None."""
    return None if plaintext is None else encrypt(plaintext, context)


def decrypt_optional(stored: str | None, context: SecretContext) -> str | None:
    """``decrypt`` for a nullable column: None stays None."""
    return None if stored is None else decrypt(stored, context)


def mask(secret: str) -> str:
    """A preview that identifies a secret without revealing it: ``sk-ant-...a1b2``.

    Shows the last 4 characters, and a vendor prefix (up to the last ``-`` or
    ``_`` in the first 8 characters) when prefix and tail stay within a third
    of the secret. Secrets shorter than 16 characters show nothing.
    """
    if len(secret) < 16:
        return "****"
    head = secret[:8]
    head = head[: max(head.rfind("-"), head.rfind("_")) + 1]
    if len(head) + 4 > len(secret) // 3:
        head = ""
    return f"{head}...{secret[-4:]}"
