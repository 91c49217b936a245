"""Checks each tenant's `[tenants.policy]` table against the law of its country at load time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.policy import PolicyError, PolicySettings

if TYPE_CHECKING:
    from connector.config import Config


def check_policies(config: Config) -> list[str]:
    """One message per problem, as ``tenants[i].policy.<key>: <rule>``; empty when all is legal."""
    problems: list[str] = []
    for index, tenant in enumerate(config.tenants):
        try:
            PolicySettings.for_country(tenant.country, tenant.policy)
        except PolicyError as exc:
            problems += [f"tenants[{index}].{error}" for error in exc.errors]
    return problems
