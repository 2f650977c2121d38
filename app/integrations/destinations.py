"""Where a caller-chosen URL may send us: a host allow-list, and no private addresses unless allowed.

A result callback's URL is chosen by whoever calls the API, so the scheduler must not be made to
POST to the database port, the cloud metadata address or anything else inside the network (SSRF,
issue 13). A destination passes when its host is on the app's allow-list and every address the
host resolves to is public, or private addresses are explicitly allowed for that app. Numeric
spellings (`0x7f000001`, `2130706433`, `[::1]`) are resolved like any host, so they are judged by
the address they reach. APIs that admins configure (API nodes) do not come through here.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class DestinationRefused(ValueError):
    """The URL may not be called; the message says why and what an admin can change."""


def host_of(url: str) -> str:
    """The URL's host name, lower case, without brackets or a trailing dot (DestinationRefused if none)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port                      # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise DestinationRefused(f"回调地址不是合法的 URL：{url!r}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise DestinationRefused("回调地址应以 http:// 或 https:// 开头，并包含主机名")
    return host.rstrip(".")


def parse_allow_list(text: str | None) -> list[str]:
    """Allow-list entries from the admin's text: one host per line (or comma separated); `*.example.com`
    allows its subdomains. Raises DestinationRefused for an entry that is not a bare host."""
    entries = []
    for raw in (text or "").replace(",", "\n").splitlines():
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        if entry.startswith("[") and entry.endswith("]"):
            entry = entry[1:-1]
        bare = entry[2:] if entry.startswith("*.") else entry
        if not bare or any(ch in bare for ch in "/:@?#* \t") and not _is_ip(bare):
            raise DestinationRefused(f"回调白名单的条目应为主机名（如 hooks.example.com 或 *.example.com），"
                                     f"不是 {raw.strip()!r}")
        entries.append(entry)
    return entries


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def host_listed(host: str, allow_list: list[str]) -> bool:
    for entry in allow_list:
        if entry.startswith("*.") and host.endswith(entry[1:]) and host != entry[2:]:
            return True
        if host == entry:
            return True
    return False


def resolve(host: str) -> list[str]:
    """Every address the host resolves to (a network call: DNS). DestinationRefused when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise DestinationRefused(f"回调地址的主机 {host} 无法解析：{exc}") from None
    return sorted({info[4][0] for info in infos})


def internal(address: str) -> bool:
    """A loopback, private, link-local, unspecified, shared, reserved or multicast address (not the internet)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check(url: str, allow_list: list[str], allow_private: bool, addresses: list[str] | None = None,
          *, app_code: str = "") -> list[str]:
    """The addresses `url` may be sent to, or DestinationRefused saying why not.

    `addresses`: the host's addresses when already resolved (else it is resolved here).
    """
    host = host_of(url)
    who = f"应用 {app_code} " if app_code else ""
    if not allow_list:
        raise DestinationRefused(f"{who}未配置回调白名单，不接受 meta.callback_url"
                                 f"（请管理员在后台「API 应用」中填写允许回调的主机）")
    if not host_listed(host, allow_list):
        raise DestinationRefused(f"回调地址的主机 {host} 不在{who}的回调白名单中")
    addresses = resolve(host) if addresses is None else addresses
    if not allow_private:
        for address in addresses:
            if internal(address):
                raise DestinationRefused(f"回调地址的主机 {host} 指向内网或本机地址 {address}，不允许"
                                         f"（管理员可为{who or '应用'}开启「允许内网回调地址」）")
    return addresses


def peer_guard(allow_private: bool):
    """For `outbound.request(peer_guard=...)`: refuses a connection whose peer is internal (DNS may have
    changed between the check and the connect)."""
    if allow_private:
        return None

    def refuse(address: str) -> str:
        return f"连接的地址 {address} 是内网或本机地址，不允许" if internal(address) else ""

    return refuse
