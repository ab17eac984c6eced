"""The chain doctor's one HTTP client: GET (caIssuers certificates, CRLs) and POST (OCSP
requests) over http:// or https://, with a deadline and a size cap on everything the
server sends, so a server that stalls, trickles or floods costs at most the deadline and
the cap.  https:// is verified against the system trust store (and the URL's host name)
by :class:`tightbind.tls.TLSConnection`.  No redirects, no keep-alive, no proxies: what
browsers and OpenSSL's own OCSP client do for these URLs.
"""

from __future__ import annotations

import socket
import time
import urllib.parse
from typing import Any

from tightbind.tls.connection import TLSConnection
from tightbind.tls.errors import CertificateVerifyError, TlsError

MAX_HEADER_BYTES = 16 * 1024
"""The most header bytes read before the body starts; more is a :class:`FetchError`."""


class FetchError(Exception):
    """A fetch failed; the message is the finding's sentence."""


def _content_length(head: bytes | bytearray) -> int | None:
    """The Content-Length an HTTP header block declares, None when absent or bad."""
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


MAX_URL_SHOWN = 200
"""The most characters of a URL a message quotes; longer ones are cut with an ellipsis."""


def shown(url: str) -> str:
    """``url`` quoted for a message, cut to :data:`MAX_URL_SHOWN` characters."""
    text = url if len(url) <= MAX_URL_SHOWN else url[:MAX_URL_SHOWN] + "..."
    return repr(text)


def _parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, request target) of an http(s) URL; raises :class:`FetchError`
    for any URL that cannot be fetched as it is: another scheme, no host, a bad port, an
    unclosed ``[``, a host name IDNA refuses (an empty label or one over 63
    characters, a name over 253), control characters or NUL bytes."""
    try:
        parts = urllib.parse.urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"{shown(url)} is not a usable URL ({exc})") from None
    if scheme not in ("http", "https") or not host:
        raise FetchError(f"only http:// and https:// URLs with a host are fetched, not "
                         f"{shown(url)}")
    if any(ord(char) < 0x21 or char == "\x7f" for char in url):
        raise FetchError(f"{shown(url)} is not a usable URL (it holds spaces or control "
                         "characters)")
    try:
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        labels = host.rstrip(".").split(".")
        if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            raise UnicodeError("a host name label is empty or longer than 63 characters, "
                               "or the name is longer than 253")
    except UnicodeError as exc:
        raise FetchError(f"{shown(url)} is not a usable URL: its host name is not valid "
                         f"({exc})") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = urllib.parse.quote(target, safe="/?=&%:@!$'()*+,;~-._")
    return scheme, host, port or (80 if scheme == "http" else 443), target


def _connect(url: str, scheme: str, host: str, port: int, remaining: Any) -> Any:
    """A connected socket, or for https:// a verified TLSConnection over one."""
    sock = socket.create_connection((host, port), timeout=remaining())
    if scheme == "http":
        return sock
    try:
        return TLSConnection(sock, host, timeout=remaining())
    except CertificateVerifyError as exc:
        raise FetchError(f"{url}: the server's certificate does not verify against the "
                         f"system trust store: {exc.reason}") from None
    except TimeoutError:
        raise FetchError(f"fetching {url} timed out") from None
    except TlsError as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from None


def http_fetch(url: str, deadline: float, cap: int, *, body: bytes | None = None,
               content_type: str = "application/octet-stream") -> bytes:
    """The body of an HTTP/1.0 GET of ``url`` (POST of ``body`` when given), read before
    ``deadline`` (monotonic) and at most ``cap`` bytes long; raises :class:`FetchError`
    saying why not (timed out, too large, refused, not HTTP, a status other than 200, an
    https:// certificate that does not verify)."""
    scheme, host, port, target = _parse(url)
    url = shown(url)[1:-1]  # messages below quote it cut to length
    lines = [f"{'GET' if body is None else 'POST'} {target} HTTP/1.0", f"Host: {host}",
             "Accept: */*", "User-Agent: tightbind-doctor", "Connection: close"]
    if body is not None:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"fetching {url} timed out")
        return left

    data = bytearray()
    try:
        with _connect(url, scheme, host, port, remaining) as conn:
            conn.settimeout(remaining())
            conn.sendall(request)
            while True:
                conn.settimeout(remaining())
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                head_end = data.find(b"\r\n\r\n")
                if head_end < 0 and len(data) > MAX_HEADER_BYTES:
                    raise FetchError(f"{url} sent more than {MAX_HEADER_BYTES} bytes of "
                                     "headers")
                if head_end >= 0:
                    body_length = len(data) - head_end - 4
                    declared = _content_length(data[:head_end])
                    if declared is not None and declared > cap:
                        raise FetchError(f"{url} announces {declared} bytes, more than "
                                         f"{cap}")
                    if body_length > cap:
                        raise FetchError(f"{url} sent more than {cap} bytes")
                    if body_length == declared:
                        break  # all of it, even from a server that keeps the connection
    except TimeoutError:
        raise FetchError(f"fetching {url} timed out") from None
    except OSError as exc:
        raise FetchError(f"cannot fetch {url}: {exc.strerror or exc}") from None
    except (TlsError, ValueError) as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from None
    head, sep, answer = bytes(data).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if not sep or len(status) < 2 or not status[0].startswith(b"HTTP/"):
        raise FetchError(f"{url} did not answer in HTTP")
    if status[1] != b"200":
        raise FetchError(f"{url} answered HTTP {status[1].decode('latin-1', 'replace')}")
    return answer
