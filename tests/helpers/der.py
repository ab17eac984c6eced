"""Just enough DER to edit PKCS#12 files and keys in tests: a tree of ``[tag, content]``
nodes (content: bytes, or a list of nodes for constructed tags), its encoding, and the
PKCS#12 MAC (RFC 7292, appendix B) so an edited file can carry a valid MAC again.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

Node = list[Any]  # [tag, bytes | list[Node]]

SHA1 = bytes.fromhex("2b0e03021a")
SHA256 = bytes.fromhex("608648016503040201")
_DIGESTS = {SHA1: "sha1", SHA256: "sha256"}


def parse(data: bytes) -> list[Node]:
    """The nodes of ``data`` (definite lengths only, as DER has)."""
    nodes: list[Node] = []
    pos = 0
    while pos < len(data):
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        content = data[pos:pos + length]
        nodes.append([tag, parse(content) if tag & 0x20 else content])
        pos += length
    return nodes


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode(nodes: list[Node]) -> bytes:
    """The DER of ``nodes``."""
    out = b""
    for tag, content in nodes:
        body = encode(content) if isinstance(content, list) else content
        out += bytes([tag]) + _length(len(body)) + body
    return out


def integer(value: int) -> bytes:
    """The content octets of a DER INTEGER."""
    return value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)


def pkcs12_kdf(digest: str, password: str, salt: bytes, purpose: int, iterations: int,
               size: int) -> bytes:
    """RFC 7292 B.2: ``size`` bytes of key material for ``purpose`` (1 key, 2 IV, 3 MAC)."""
    u = hashlib.new(digest).digest_size
    v = hashlib.new(digest).block_size

    def fill(data: bytes) -> bytes:
        if not data:
            return b""
        total = v * -(-len(data) // v)
        return (data * (total // len(data) + 1))[:total]

    block = fill(salt) + fill(password.encode("utf-16-be") + b"\0\0")
    out = b""
    while len(out) < size:
        a = bytes([purpose]) * v + block
        for _ in range(iterations):
            a = hashlib.new(digest, a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        block = b"".join(
            ((int.from_bytes(block[i:i + v], "big") + b + 1) % (1 << (8 * v))).to_bytes(v, "big")
            for i in range(0, len(block), v))
    return out[:size]


def pkcs12_remac(data: bytes, password: str, *, iterations: int | None = None) -> bytes:
    """``data`` (a PKCS#12 file with a MAC) with its MAC computed again for ``password``
    (and ``iterations``, default the file's): the way to make a file whose MAC and
    contents take different passwords, or whose contents were edited."""
    pfx = parse(data)[0][1]
    auth_safe, mac_data = pfx[1], pfx[2]
    content = auth_safe[1][1][1][0][1]  # ContentInfo -> [0] -> OCTET STRING
    digest_info, salt = mac_data[1][0], mac_data[1][1][1]
    digest = _DIGESTS[digest_info[1][0][1][0][1]]
    if iterations is not None:
        mac_data[1][2][1] = integer(iterations)
    rounds = int.from_bytes(mac_data[1][2][1], "big") if len(mac_data[1]) > 2 else 1
    key = pkcs12_kdf(digest, password, salt, 3, rounds, hashlib.new(digest).digest_size)
    digest_info[1][1][1] = hmac.new(key, content, digest).digest()
    return encode([[0x30, pfx]])


def _nested(content: bytes) -> list[Node] | None:
    """The nodes of an OCTET STRING that holds DER (PKCS#12 wraps its contents so), or
    None for one that does not (ciphertext, salts, digests)."""
    if len(content) < 2 or content[0] != 0x30:
        return None
    try:
        nodes = parse(content)
    except (IndexError, ValueError):
        return None
    return nodes if encode(nodes) == content else None


def set_pbe_iterations(data: bytes, value: int, which: int | None = None) -> bytes:
    """``data`` with the iteration count of its PBE parameters (PBKDF2-params and
    PKCS#12/PBES1 PBEParameter: a SEQUENCE of salt then count) set to ``value``: all of
    them, or only the ``which``-th (0-based, document order).  Looks inside OCTET
    STRINGs that hold DER.  A MAC over edited contents no longer verifies."""
    found = 0

    def walk(nodes: list[Node]) -> None:
        nonlocal found
        for node in nodes:
            tag, content = node
            if isinstance(content, list):
                if (tag == 0x30 and len(content) >= 2 and content[0][0] == 0x04
                        and content[1][0] == 0x02):
                    if which is None or found == which:
                        content[1][1] = integer(value)
                    found += 1
                walk(content)
            elif tag == 0x04 and (inner := _nested(content)) is not None:
                walk(inner)
                node[1] = encode(inner)

    tree = parse(data)
    walk(tree)
    return encode(tree)


def set_mac_iterations(data: bytes, value: int) -> bytes:
    """A PKCS#12 file with its MacData iteration count set to ``value`` (the MAC is not
    made again: ``pkcs12_remac`` does that)."""
    tree = parse(data)
    tree[0][1][2][1][2][1] = integer(value)
    return encode(tree)
