"""Legacy (AES-256-CBC) values made to order, for the tests of ambiguous decryption."""

from __future__ import annotations

import functools
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ASCII = range(0x20, 0x7F)
_LEAD = range(0xC2, 0xE0)
_CONTINUATION = range(0x80, 0xC0)


def _block_decrypt(key: bytes, block: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - one raw block
    return decryptor.update(block) + decryptor.finalize()


def _accepts(byte: int, need: int, content: bool, last_content: bool) -> int | None:
    """The continuation bytes still needed after ``byte`` in a UTF-8 text, or None if invalid."""
    if not content:
        return 0
    if need:
        return 0 if byte in _CONTINUATION else None
    if byte in _ASCII:
        return 0
    if byte in _LEAD and not last_content:
        return 1
    return None


def _plaintext_block(delta: bytes, pad_a: int, pad_b: int) -> bytes | None:
    """A block P with PKCS#7 padding ``pad_a`` whose P XOR delta has padding ``pad_b``,
    both holding valid UTF-8 before their padding; None if there is none."""
    end_a, end_b = 16 - pad_a, 16 - pad_b

    @functools.cache
    def solve(i: int, need_a: int, need_b: int) -> tuple[int, ...] | None:
        if i == 16:
            return ()
        if (i == end_a and need_a) or (i == end_b and need_b):
            return None
        forced = {pad_a} if i >= end_a else set(range(256))
        if i >= end_b:
            forced &= {pad_b ^ delta[i]}
        for x in sorted(forced):
            after_a = _accepts(x, need_a, i < end_a, i == end_a - 1)
            after_b = _accepts(x ^ delta[i], need_b, i < end_b, i == end_b - 1)
            if after_a is None or after_b is None:
                continue
            rest = solve(i + 1, after_a, after_b)
            if rest is not None:
                return (x, *rest)
        return None

    found = solve(0, 0, 0)
    return None if found is None else bytes(found)


def opened_by_two_keys(key_a_hex: str, key_b_hex: str) -> str:
    """A legacy value (``<iv hex>:<ciphertext hex>``) that both keys open to valid text.

    One block: P_A = D_A(c) XOR iv and P_B = D_B(c) XOR iv differ by
    D_A(c) XOR D_B(c), whatever the IV; pick c until some P_A and P_B with
    valid padding and UTF-8 differ by exactly that, then choose the IV.
    """
    key_a, key_b = bytes.fromhex(key_a_hex), bytes.fromhex(key_b_hex)
    # About 1 block in 3,000 qualifies (2 s of search on average): 10,000
    # tries failed 1 search in 30; 200,000 fail 1 in e**66.
    for _ in range(200_000):
        block = os.urandom(16)
        opened_a = _block_decrypt(key_a, block)
        delta = bytes(a ^ b for a, b in zip(opened_a, _block_decrypt(key_b, block), strict=True))
        for pad_a in range(1, 17):
            pad_b = pad_a ^ delta[15]
            if not 1 <= pad_b <= 16:
                continue
            plaintext = _plaintext_block(delta, pad_a, pad_b)
            if plaintext is not None:
                iv = bytes(a ^ p for a, p in zip(opened_a, plaintext, strict=True))
                return f"{iv.hex()}:{block.hex()}"
    raise AssertionError("no ambiguous legacy value found")  # pragma: no cover
