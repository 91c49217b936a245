"""The e-mail and phone shortcuts agree with email-validator and phonenumbers."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from connector.validation.contacts import (
    FAST_REGIONS,
    PLAIN_EMAIL,
    _plain,
    email_problem,
    fast_phone_valid,
    phone_ok,
    slow_phone_ok,
)

ATEXT = "abcxyzABCXYZ0189_+-"
LDH = "abcxyz0189-"
local_parts = st.lists(st.text(ATEXT, min_size=1, max_size=30), min_size=1, max_size=4).map(
    ".".join
)
ALNUM = "abcxyzABC0189"
labels = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(ALNUM),
    st.text(LDH, max_size=62),
    st.text(ALNUM, max_size=1),
)
tlds = st.sampled_from(["no", "se", "com", "test", "local", "onion", "x", "museum", "Invalid"])
emails = st.builds(
    lambda local, domain, tld: f"{local}@{'.'.join([*domain, tld])}",
    local_parts,
    st.lists(labels, min_size=1, max_size=3),
    tlds,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(emails)
def test_plain_email_shortcut_never_accepts_what_email_validator_rejects(address: str) -> None:
    assume(PLAIN_EMAIL.fullmatch(address))
    if _plain(address):
        validate_email(address, check_deliverability=False)  # must not raise


@pytest.mark.parametrize(
    "address",
    ["post@maloysjomat", "a@b@c.no", "ola..nordmann@firma.no", "kari@localhost", "kari@x.test",
     "kari@-firma.no", "kari nordmann@firma.no", ""],
)  # fmt: skip
def test_invalid_emails(address: str) -> None:
    assert email_problem(address)
    with pytest.raises(EmailNotValidError):
        validate_email(address, check_deliverability=False)


@pytest.mark.parametrize(
    "address", ["kari.nordmann@example.no", "åse@ærlig.no", "o'brien@firma.ie", "a+b@sub.firma.no"]
)
def test_valid_emails(address: str) -> None:
    assert email_problem(address) is None


digits = st.text(alphabet="0123456789", min_size=1, max_size=13)
prefixes = st.sampled_from(["", "+47", "+46", "+45", "+358", "+354", "+47 ", "0047", "+44"])


@settings(max_examples=400)
@given(prefixes, digits, st.sampled_from(sorted(FAST_REGIONS)))
@example("", "4745437705", "NO")  # parse reads the leading 47 as the country code
@example("", "4547710407", "DK")
@example("+47", "79123456", "NO")  # Svalbard shares +47
@example("+46", "0701234567", "SE")
def test_phone_shortcut_agrees_with_phonenumbers(prefix: str, number: str, region: str) -> None:
    text = prefix + number
    fast = fast_phone_valid(text, region)
    if fast is not None:
        assert fast == slow_phone_ok(text, region), text


@pytest.mark.parametrize(
    ("number", "region", "ok"),
    [
        ("+47 22 35 17 80", "NO", True),
        ("915 24 680", "NO", True),
        ("12 34", "NO", False),
        ("+47 123", "NO", False),
        ("08-123 456 78", "SE", True),
        ("+46 70 123 45 67", "SE", True),
        ("+49 40 3861 0", "DE", True),
        ("not a number", "NO", False),
    ],
)
def test_phone_numbers(number: str, region: str, ok: bool) -> None:
    assert phone_ok(number, region) is ok
    assert slow_phone_ok(number, region) is ok
