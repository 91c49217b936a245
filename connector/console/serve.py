"""`kravsync console`: the console under uvicorn, on loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from connector.clock import Clock
from connector.config import Config, TenantConfig
from connector.console.app import Console, build_app
from connector.cycle import CycleResult
from connector.store import Store

log = logging.getLogger("kravsync.console")
DEFAULT_PORT = 8470


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, tls: bool) -> str | None:
    """The loud warning for a console reachable off this host without TLS (None: fine)."""
    if tls or is_loopback(host):
        return None
    return (
        f"WARNING: the console listens on {host} WITHOUT TLS: passwords and session cookies "
        "cross the network in clear. Give --tls-cert and --tls-key, or put it behind a "
        "TLS-terminating proxy and bind it to 127.0.0.1."
    )


def make_console(config: Config, store: Store, clock: Clock, *, secure: bool) -> Console:
    def send_now(tenant: TenantConfig) -> CycleResult:
        from connector.runtime import run_tenant

        return run_tenant(tenant, store, clock=clock)

    return Console(config, store, clock, secure=secure, send_now=send_now)


def start_in_thread(
    config: Config, store: Store, clock: Clock, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> Callable[[], None]:
    """The console beside the daemon (`kravsync daemon --console-port`), plain HTTP; returns
    how to stop it. Binding errors surface here, before the daemon starts."""
    import socket

    import uvicorn

    warning = exposure_warning(host, tls=False)
    if warning:
        print(warning, file=sys.stderr, flush=True)
        log.warning(warning)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    console = make_console(config, store, clock, secure=False)
    console.warm()
    app = build_app(console)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", server_header=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="console", daemon=True
    )
    thread.start()
    log.info("console on http://%s:%d/", host, sock.getsockname()[1])

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return stop


def serve(
    config: Config,
    store: Store,
    clock: Clock,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    import uvicorn

    tls = tls_cert is not None and tls_key is not None
    warning = exposure_warning(host, tls)
    if warning:
        print(warning, file=sys.stderr, flush=True)
        log.warning(warning)
    if not store.console_users():
        print(
            "no console users yet: add one with `kravsync user add NAME --role admin`",
            file=sys.stderr,
            flush=True,
        )
    console = make_console(config, store, clock, secure=tls)
    console.warm()
    app = build_app(console)
    scheme = "https" if tls else "http"
    print(f"kravsync console on {scheme}://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
    )
