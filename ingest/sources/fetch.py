"""Fetching a page over HTTP(S) for ingest: httpx with time and size limits, redirects followed by hand so every
hop is checked, and a guard against server-side request forgery.

A server that fetches any URL a client names can be made to read its own network: the cloud metadata endpoint,
an admin page on loopback, a database on the private LAN. So each hop's host is resolved first and refused when
any address it resolves to is not a public one (loopback, private, link-local, carrier-grade NAT, multicast,
reserved), unless `CITEBOT_FETCH_ALLOW_PRIVATE` is set or the address is in `CITEBOT_FETCH_ALLOWED_NETWORKS`.
Redirects are followed one at a time so that a public page cannot bounce the fetch to a private address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class FetchError(ValueError):
    """A URL that could not be fetched; the message says why and what to do."""


@dataclass(frozen=True)
class FetchLimits:
    """What one fetch may cost and where it may go."""

    timeout_s: float = 20.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = "citebot/1 (+news archive ingest)"
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()


@dataclass
class Fetched:
    """A fetched resource: the address asked for, where it ended up, its type and body, and its validators."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r} ({exc.strerror}); check the address") from exc
    return sorted({str(info[4][0]) for info in infos})


def address_allowed(ip: IPAddress, limits: FetchLimits) -> bool:
    """A public address, or one the settings allow."""
    if limits.allow_private:
        return True
    if any(ip in ipaddress.ip_network(n, strict=False) for n in limits.allowed_networks):
        return True
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
    return bool((mapped or ip).is_global) and not (mapped or ip).is_multicast


def check_url(url: str, limits: FetchLimits, resolve: Resolver = _resolve) -> None:
    """Refuse what may not be fetched: a scheme other than http(s), credentials, no host, or a host that resolves
    to an address that is not public (see the module's docstring)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'!r}")
    if not parts.hostname:
        raise FetchError("the URL has no host")
    if parts.username or parts.password:
        raise FetchError("URLs with a user name or password are not fetched")
    port = port or (443 if parts.scheme == "https" else 80)
    for addr in resolve(parts.hostname, port):
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
        if not address_allowed(ip, limits):
            raise FetchError(
                f"{parts.hostname} resolves to {ip}, a private, loopback or reserved address; citebot does not "
                "fetch those unless CITEBOT_FETCH_ALLOW_PRIVATE=true (or the network is in "
                "CITEBOT_FETCH_ALLOWED_NETWORKS)")


def fetch(url: str, limits: FetchLimits, *, headers: dict[str, str] | None = None,
          client: httpx.Client | None = None, resolve: Resolver = _resolve) -> Fetched:
    """GET `url` within the limits, following redirects hop by hop with each hop checked. `headers` may carry
    If-None-Match / If-Modified-Since: a 304 comes back as `Fetched(status=304, body=b"")`."""
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(limits.timeout_s), follow_redirects=False,
                                  headers={"User-Agent": limits.user_agent})
    try:
        return _fetch(url, limits, headers or {}, http, resolve)
    finally:
        if own:
            http.close()


def _fetch(url: str, limits: FetchLimits, headers: dict[str, str], http: httpx.Client,
           resolve: Resolver) -> Fetched:
    current, hops = url, list[str]()
    for _ in range(limits.max_redirects + 1):
        check_url(current, limits, resolve)
        try:
            with http.stream("GET", current, headers=headers) as r:
                if r.status_code == 304:
                    return Fetched(url, current, 304, "", b"", r.headers.get("etag"), r.headers.get("last-modified"),
                                   hops)
                if r.status_code in (301, 302, 303, 307, 308):
                    location = r.headers.get("location")
                    if not location:
                        raise FetchError(f"{current} redirects without a Location header")
                    hops.append(current)
                    current = urljoin(current, location)
                    continue
                if r.status_code >= 400:
                    raise FetchError(f"{current} answered HTTP {r.status_code} {r.reason_phrase}".rstrip())
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                    raise FetchError(_too_big(int(declared), limits))
                body = _read_capped(r.iter_bytes(), limits)
                return Fetched(url, current, r.status_code, r.headers.get("content-type", ""), body,
                               r.headers.get("etag"), r.headers.get("last-modified"), hops)
        except httpx.TimeoutException as exc:
            raise FetchError(f"{current} did not answer within {limits.timeout_s:g} s (CITEBOT_FETCH_TIMEOUT_S)") \
                from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {current}: {exc}") from exc
    raise FetchError(f"{url} redirects more than {limits.max_redirects} times")


def _read_capped(chunks: Iterable[bytes], limits: FetchLimits) -> bytes:
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) > limits.max_bytes:
            raise FetchError(_too_big(len(buf), limits, at_least=True))
    return bytes(buf)


def _too_big(size: int, limits: FetchLimits, at_least: bool = False) -> str:
    return (f"the page is {'over ' if at_least else ''}{size / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:.0f} MB "
            "limit (CITEBOT_MAX_FILE_MB)")
