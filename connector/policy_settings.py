"""Checks each tenant's `[tenants.policy]` table against the law of its country at load time,
and the figures set by hand in `[rates.no]` / `[rates.se]`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.policy import PolicyError, PolicySettings
from connector.policy.rates import RateRow, row_problem
from connector.policy.tables import Evidence

if TYPE_CHECKING:
    from connector.config import Config, ManualRate, TenantConfig

_KNOWN = ("no", "se")


def manual_row(country: str, figure: str, row: ManualRate, where: str) -> RateRow:
    return RateRow(
        country.upper(),
        figure,
        row.valid_from,
        row.value,
        row.source,
        Evidence.MANUAL,
        f"set by hand in {where}",
    )


def manual_rows(tenant: TenantConfig) -> tuple[RateRow, ...]:
    """The tenant's country's figures set by hand in the config, as rate rows."""
    return tuple(
        manual_row(tenant.country, figure, row, f"[rates.{tenant.country.lower()}]")
        for figure, row in tenant.manual_rates
    )


def check_rates(config: Config) -> list[str]:
    """One message per bad `[rates.<country>]` row, as ``rates.no.<figure>[i]: <problem>``."""
    problems: list[str] = []
    for country in config.rates:
        if country not in _KNOWN:
            problems.append(f"rates.{country}: unknown country (known: {', '.join(_KNOWN)})")
    for country, figure, index, row in config.manual_rate_rows():
        if country.lower() not in _KNOWN:
            continue
        problem = row_problem(manual_row(country, figure, row, ""))
        if problem:
            key = f"rates.{country.lower()}.{figure}"
            if not problem.startswith("unknown figure"):
                key += f"[{index}]"
            problems.append(f"{key}: {problem}")
    return problems


def check_policies(config: Config) -> list[str]:
    """One message per problem, as ``tenants[i].policy.<key>: <rule>``; empty when all is legal."""
    problems: list[str] = []
    for index, tenant in enumerate(config.tenants):
        try:
            PolicySettings.for_country(tenant.country, tenant.policy)
        except PolicyError as exc:
            problems += [f"tenants[{index}].{error}" for error in exc.errors]
    return problems
