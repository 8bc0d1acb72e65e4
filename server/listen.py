"""Bind the listening sockets before the service starts its runner child.

Binding first lets a port in use or a wrong host stop the start at once,
before the child spends seconds or minutes loading its model.
"""

from __future__ import annotations

import errno
import socket

# The listen backlog that aiohttp's sites use by default.
BACKLOG = 128


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Bind and listen on every address that ``host`` resolves to.

    This follows ``asyncio``'s ``create_server`` (Python 3.11) on POSIX for a
    host and port: SO_REUSEADDR on each socket, and IPV6_V6ONLY on IPv6 ones,
    so that an IPv4 and an IPv6 address can share the port.

    Raises:
        OSError: an address cannot be bound (socket.gaierror for a host name
            that does not resolve); ``listen_error`` words the message.
    """
    infos = socket.getaddrinfo(
        host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def service_url(host: str, port: int) -> str:
    """Return the service's base URL, with an IPv6 address in brackets (RFC 3986)."""
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def listen_error(host: str, port: int, exc: OSError) -> str:
    """Return the message for a failure to listen on ``host:port``, with the fix."""
    where = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{where}; another process listens on port {port} of {host}. Stop it, "
            "or choose another --port (BOOKNLP_JOBS_PORT)"
        )
    if exc.errno == errno.EACCES:
        return (
            f"{where}; choose a --port above 1023, or give the service the right "
            "to bind low ports (CAP_NET_BIND_SERVICE)"
        )
    # A name that does not resolve (socket.gaierror) or an address that no
    # interface of this machine has (EADDRNOTAVAIL), among others.
    return (
        f"{where}; host {host!r} is not an address of this machine or a host name "
        "that resolves to one. Pass a valid local address with --host or "
        "BOOKNLP_JOBS_HOST, such as 127.0.0.1, or 0.0.0.0 for all interfaces"
    )
