"""`kravsync tenants discover TENANT`: the companies one login reaches, as [[tenants]] tables.

An accounting bureau logs in once and serves hundreds of client companies; each becomes a
tenant. The tables printed here share the source tenant's credential (``keyring:ENTRY`` names
its keyring entry), start plan-only, and comment out the companies already configured. Text from
the provider (company names) only ever lands inside TOML strings or comments, escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from connector.config import TenantConfig
from providers.base import DiscoveredTenant

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def comment(value: str) -> str:
    """Text safe on one comment line."""
    return _CONTROL.sub(" ", value).strip()


def shared_credentials(source: TenantConfig) -> str:
    """The source tenant's credential setting, pointing at the same secret."""
    if source.credentials == "keyring":
        return f"keyring:{source.name}"
    return source.credentials


def _configured(
    found: DiscoveredTenant, source: TenantConfig, existing: Sequence[TenantConfig]
) -> str | None:
    keys = {k: str(v) for k, v in found.settings.items() if k != "base_url"}
    for tenant in existing:
        if tenant.provider == source.provider and all(
            str(getattr(tenant, k, None) if getattr(tenant, k, None) is not None else "0") == v
            for k, v in keys.items()
        ):
            return tenant.name
    return None


def discovered_toml(
    source: TenantConfig, found: Sequence[DiscoveredTenant], existing: Sequence[TenantConfig]
) -> str:
    names = {t.name for t in existing}
    credentials = shared_credentials(source)
    out = [
        f"# {len(found)} compan{'y' if len(found) == 1 else 'ies'} reachable with tenant "
        f"{source.name}'s {source.provider} login.",
        "# Paste the ones kravsync should work; each starts plan-only (push = false) and uses",
        f"# the same credential as {source.name} ({credentials}).",
    ]
    for item in found:
        already = _configured(item, source, existing)
        name, n = item.name, 2
        while name in names:
            name, n = f"{item.name[:60]}-{n}", n + 1
        names.add(name)
        mark = "# " if already else ""
        out.append("")
        out.append(f"# {comment(item.label)}")
        if already:
            out.append(f"# already configured as tenant {already}")
        out.append(f"{mark}[[tenants]]")
        out.append(f"{mark}name = {toml_string(name)}")
        out.append(f"{mark}provider = {toml_string(source.provider)}")
        out.append(f"{mark}country = {toml_string(source.country)}")
        for key, value in item.settings.items():
            out.append(f"{mark}{key} = {toml_string(str(value))}")
        out.append(f"{mark}credentials = {toml_string(credentials)}")
        out.append(f"{mark}push = false")
    return "\n".join(out) + "\n"


__all__ = ["discovered_toml", "shared_credentials", "toml_string"]
