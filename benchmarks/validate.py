"""Validation speed: 20 000 generated Norwegian customers, no registry calls.

Run: ``python benchmarks/validate.py [N]``. Every customer has its own org number or national
id, e-mail and phone (no value repeats, so the per-value caches do not flatter the figure);
about one in ten carries a defect. The postcode register is the shipped fixture.
"""

from __future__ import annotations

import sys
import time
from datetime import date

from stdnum.no import fodselsnummer, orgnr

from connector.models import Address, ContactPerson, Customer, CustomerKind
from connector.validation import fixture_register, validate_customers
from connector.validation.contacts import email_problem, phone_ok
from connector.validation.postcodes import postcode_format_ok

PLACES = (
    ("0150", "Oslo"), ("5003", "Bergen"), ("7011", "Trondheim"), ("4006", "Stavanger"),
    ("9008", "Tromsø"), ("8006", "Bodø"), ("6002", "Ålesund"), ("2609", "Lillehammer"),
    ("4612", "Kristiansand S"), ("3015", "Drammen"), ("1606", "Fredrikstad"), ("2317", "Hamar"),
    ("6413", "Molde"), ("6800", "Førde"), ("7374", "Røros"), ("3712", "Skien"),
)  # fmt: skip


class Settings:
    allow_test_org_numbers = False


def _org(n: int) -> str:
    base = 900_000_000 + n * 10
    for d in range(10):
        if orgnr.is_valid(str(base + d)):
            return str(base + d)
    return str(base)  # no check digit for this base: a defect, fine in a benchmark


def _fnr(n: int) -> str:
    born = date(1950 + n % 50, 1 + n % 12, 1 + n % 28)
    nine = f"{born:%d%m%y}{n % 500:03d}"
    c1 = fodselsnummer.calc_check_digit1(nine)
    return nine + c1 + fodselsnummer.calc_check_digit2(nine + c1)


def generate(count: int) -> list[Customer]:
    out = []
    for n in range(count):
        postcode, city = PLACES[n % len(PLACES)]
        company = n % 4 != 0
        defect = n % 10 == 0
        out.append(
            Customer(
                provider="bench",
                provider_id=str(n),
                number=str(10_000 + n),
                name=f"Bjørkø Håndverk {n} AS" if company else f"Åse Ærlig {n}",
                kind=CustomerKind.COMPANY if company else CustomerKind.PERSON,
                org_number=_org(n) if company and n % 50 else None,
                national_id=None if company else _fnr(n),
                invoice_address=Address(
                    street=f"Storgata {n % 120 + 1}",
                    postcode=postcode if not defect else "12",
                    city=city,
                    country="NO",
                ),
                email=f"post{n}@kunde{n % 997}.no" if n % 20 else f"post{n}@kunde",
                phone=f"+47 9{n % 10_000_000:07d}",
                contact_persons=(ContactPerson(name="Kari Nordmann", email=f"kari{n}@firma.no"),)
                if company and n % 7
                else (),
            )
        )
    return out


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    customers = generate(count)
    register = fixture_register()
    settings = Settings()
    wall = cpu = 0.0
    for _ in range(5):
        email_problem.cache_clear()
        phone_ok.cache_clear()
        postcode_format_ok.cache_clear()
        register = fixture_register()  # a fresh register: no (postcode, city) answers kept
        start, start_cpu = time.perf_counter(), time.process_time()
        findings = validate_customers(
            customers,
            country="NO",
            today=date(2026, 3, 16),
            settings=settings,
            postcodes=register,
            registry=None,
        )
        wall = max(wall, count / (time.perf_counter() - start))
        cpu = max(cpu, count / (time.process_time() - start_cpu))
    print(
        f"{count} customers, {len(findings)} findings: {wall:,.0f} customers/s wall clock, "
        f"{cpu:,.0f} per CPU second (best of 5)"
    )


if __name__ == "__main__":
    main()
