"""`kravsync demo`: every installed provider's sandbox, synced into a temporary store.

Needs no account and no network: the sandboxes are local HTTP servers on 127.0.0.1 and the real
provider clients talk to them exactly as they would to the real APIs.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from connector.config import TenantConfig
from connector.runtime import end_progress, run_tenant, terminal_progress
from connector.secrets import MemoryCredentials
from connector.status import collect, status_table
from connector.store import open_store
from providers.base import registry


def demo_tenant(provider: str, sandbox: Any) -> TenantConfig:
    factory = registry()[provider]
    return TenantConfig.model_validate(
        {
            "name": f"demo-{provider}",
            "provider": provider,
            "country": factory.countries[0],
            **sandbox.tenant_settings(),
        }
    )


def demo_secret(sandbox: Any) -> str:
    return str(sandbox.demo_secret())


def run_demo(
    today: date | None = None, out: TextIO = sys.stdout, workdir: Path | None = None
) -> int:
    today = today or date.today()
    failed = 0
    with ExitStack() as stack:
        folder = workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="kravsync-demo-"))
        )
        store = open_store(f"sqlite:///{folder / 'demo.db'}")
        stack.callback(store.close)
        credentials = MemoryCredentials()
        tenants: list[TenantConfig] = []
        for name, factory in sorted(registry().items()):
            sandbox = factory.sandbox(today=today).start()
            stack.callback(sandbox.stop)
            tenant = demo_tenant(name, sandbox)
            credentials.set(tenant.name, demo_secret(sandbox))
            tenants.append(tenant)
            print(f"{name} sandbox on {sandbox.base_url}", file=out)
        print(f"store: {folder / 'demo.db'} (temporary)", file=out)
        print("", file=out)
        for tenant in tenants:
            progress = terminal_progress(tenant.name) if out is sys.stdout else None
            result = run_tenant(tenant, store, credentials=credentials, progress=progress)
            end_progress(progress)
            print(result.summary(), file=out)
            for item in result.skipped:
                print(f"  skipped {item}", file=out)
            failed += not result.ok
        print("", file=out)
        print(status_table(collect(store, [t.name for t in tenants], today)), file=out)
    return 1 if failed else 0
