"""Identifiers: stdnum's checks plus the gaps kravsync closes (real and published test numbers)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.no import fodselsnummer as stdnum_fnr

from connector.validation import identifiers as ids
from connector.validation.identifiers import (
    InvalidChecksum,
    InvalidComponent,
    ValidationError,
    mask_national_id,
    no_fodselsnummer,
    no_mva,
    no_orgnr,
    se_orgnr,
    se_personnummer,
    se_vat,
)


def fnr(day: int, month: int, yy: int, individual: int) -> str:
    """A fødselsnummer with stdnum's check digits (None-free: retries serials with digit 10)."""
    for serial in range(individual, individual + 20):
        nine = f"{day:02d}{month:02d}{yy:02d}{serial:03d}"
        c1 = stdnum_fnr.calc_check_digit1(nine)
        c2 = stdnum_fnr.calc_check_digit2(nine + c1)
        if len(c1) == 1 and len(c2) == 1:
            return nine + c1 + c2
    raise AssertionError("no serial with valid check digits")


def wrong_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


# --- Norway: org numbers ----------------------------------------------------------------------

REAL_NO_ORGS = ["923609016", "984851006", "976820479"]  # Equinor, DNB Bank, Telenor


@pytest.mark.parametrize("org", REAL_NO_ORGS)
def test_real_norwegian_org_numbers_are_valid_and_look_alikes_are_not(org: str) -> None:
    assert no_orgnr.validate(org) == org
    with pytest.raises(InvalidChecksum):
        no_orgnr.validate(wrong_last_digit(org))


@pytest.mark.parametrize(
    "written", ["923 609 016", "923-609-016", "923.609.016", "NO 923609016 MVA", " 923609016 "]
)
def test_org_number_accepts_common_spacing_and_stores_compact(written: str) -> None:
    assert no_orgnr.validate(written) == "923609016"


def test_org_number_must_start_with_8_or_9_and_test_range_needs_the_setting() -> None:
    assert not no_orgnr.is_valid("123456785")  # mod 11 is fine, but no real number starts with 1
    synthetic = "312345005"  # Skatteetaten's synthetic register: numbers start with 2 or 3
    with pytest.raises(InvalidComponent, match="synthetic"):
        no_orgnr.validate(synthetic)
    assert no_orgnr.validate(synthetic, allow_test=True) == synthetic
    assert not no_orgnr.is_valid("123456785", allow_test=True)


def test_mva_number() -> None:
    assert no_mva.validate("NO 923 609 016 MVA") == "923609016MVA"
    assert no_mva.format("923609016MVA") == "NO 923 609 016 MVA"
    assert not no_mva.is_valid("NO 923 609 017 MVA")
    assert not no_mva.is_valid("923609016")  # without the MVA suffix it is an org number


# --- Norway: fødselsnummer --------------------------------------------------------------------


def test_fodselsnummer_d_and_h_numbers_carry_the_birth_date() -> None:
    plain = fnr(15, 10, 86, 950)
    d_number = fnr(55, 10, 86, 950)  # day + 40
    h_number = fnr(15, 50, 86, 950)  # month + 40
    for number in (plain, d_number, h_number):
        assert no_fodselsnummer.birth_date(number) == date(1986, 10, 15)
    assert no_fodselsnummer.validate("151086 95088") == "15108695088"
    with pytest.raises(InvalidChecksum):
        no_fodselsnummer.validate("15108695077")


def test_fh_numbers_are_not_national_ids() -> None:
    fh = fnr(81, 10, 86, 950)
    with pytest.raises(InvalidComponent, match="FH-number"):
        no_fodselsnummer.validate(fh)


def test_tenor_synthetic_ids_need_the_test_setting() -> None:
    tenor = "17912099997"  # Skatteetaten's synthetic population: month + 80 (17.11.2020)
    with pytest.raises(InvalidComponent, match="synthetic"):
        no_fodselsnummer.validate(tenor)
    assert no_fodselsnummer.birth_date(tenor, allow_test=True) == date(2020, 11, 17)
    with pytest.raises(InvalidChecksum):
        no_fodselsnummer.validate(wrong_last_digit(tenor), allow_test=True)


@given(st.dates(date(1900, 1, 1), date(1999, 12, 31)), st.integers(0, 479))
def test_any_fodselsnummer_gives_back_its_birth_date(born: date, serial: int) -> None:
    number = fnr(born.day, born.month, born.year % 100, serial)
    assert ids.birth_date(number, "NO") == born


# --- Sweden -----------------------------------------------------------------------------------

REAL_SE_ORGS = ["556016-0680", "556012-5790", "556042-7220", "202100-5489"]
# Ericsson, Volvo, H&M, Riksdagsförvaltningen (a state body: group 2)


@pytest.mark.parametrize("org", REAL_SE_ORGS)
def test_real_swedish_org_numbers_in_10_and_12_digits(org: str) -> None:
    compact = org.replace("-", "")
    assert se_orgnr.validate(org) == compact
    assert se_orgnr.validate("16" + org) == compact
    assert not se_orgnr.is_personal(org)
    assert not se_orgnr.is_valid(wrong_last_digit(org))


def test_swedish_legal_entity_needs_digits_3_4_of_20_or_more() -> None:
    number = "5510121238"  # Luhn-valid, digits 3-4 are "10"
    assert luhn.is_valid(number)
    assert not se_orgnr.is_valid("16" + number)  # a "16" number is a legal entity's
    assert se_orgnr.is_personal(number)  # 10 digits: a sole trader born 1955-10-12


def test_sole_trader_org_number_is_a_personnummer() -> None:
    assert se_orgnr.validate("811228-9874") == "8112289874"
    assert se_orgnr.is_personal("811228-9874")
    assert se_orgnr.validate("19811228-9874") == "8112289874"
    assert not se_orgnr.is_valid("811328-9872")  # month 13: neither an entity nor a person


# Skatteverket's published test personnummer (Tolvan Tolvansson and others)
SKATTEVERKET_TEST = ["191212121212", "194408139089", "199006022397", "195005050512", "198705212382"]


@pytest.mark.parametrize("number", SKATTEVERKET_TEST)
def test_skatteverket_test_personnummer(number: str) -> None:
    assert se_personnummer.validate(number) == number
    assert se_personnummer.validate(f"{number[:8]}-{number[8:]}") == number
    assert se_personnummer.birth_date(number) == date(
        int(number[:4]), int(number[4:6]), int(number[6:8])
    )
    assert not se_personnummer.is_valid(wrong_last_digit(number))


def test_personnummer_plus_separator_and_samordningsnummer() -> None:
    assert se_personnummer.validate("121212+1212") == "191212121212"  # 100 or older
    assert se_personnummer.validate("121212-1212") == "201212121212"
    assert se_personnummer.validate("701063-2391") == "197010632391"  # day 63 = 3 + 60
    assert se_personnummer.birth_date("701063-2391") == date(1970, 10, 3)
    assert not se_personnummer.is_valid("701093-2391")  # day 33 after the 60


def test_swedish_vat_number() -> None:
    assert se_vat.validate("SE 5560160680 01") == "556016068001"
    assert se_vat.format("556016068001") == "SE556016068001"
    assert not se_vat.is_valid("SE556016068002")
    assert not se_vat.is_valid("SE556016068101")  # org number part has a wrong check digit


# --- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("01019012480", "010190*****"),
        ("010190 12480", "010190*****"),
        ("19900125-2387", "19900125****"),
        ("900125-2387", "900125****"),
        ("1234", "****"),
        (None, ""),
    ],
)
def test_mask_national_id(number: str | None, masked: str) -> None:
    assert mask_national_id(number) == masked


@given(st.text(alphabet="0123456789 -+", max_size=20))
def test_mask_never_shows_the_personal_part(number: str) -> None:
    digits = "".join(ch for ch in number if ch.isdigit())
    masked = mask_national_id(number)
    assert len(masked) == len(digits)
    if len(digits) >= 4:
        assert masked.endswith("****")


def test_describe_error_is_human() -> None:
    with pytest.raises(ValidationError) as info:
        no_orgnr.validate("913312466")
    assert ids.describe_error(info.value) == "has a wrong check digit"
