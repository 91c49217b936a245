"""Nordic identifiers: python-stdnum, with its known gaps closed.

Each identifier is one object with stdnum's verbs: ``compact``, ``validate`` (returns the compact
form or raises a :class:`stdnum.exceptions.ValidationError`), ``is_valid`` and ``format``. The
checksums are stdnum's; this layer only adds what stdnum leaves out:

- NO org numbers: real ones start with 8 or 9; Skatteetaten's synthetic test register (Tenor,
  "Test-Norge") uses numbers starting with 2 or 3, admitted only with ``allow_test=True``.
- NO fødselsnummer: stdnum accepts F-, D- (day + 40) and H-numbers (month + 40) and rejects
  FH-numbers (first digit 8/9, no birth date) and Tenor's synthetic ids (month + 80); the latter
  are admitted with ``allow_test=True``.
- SE organisationsnummer: the 12-digit "16" form, the "digits 3-4 >= 20" rule for legal entities,
  and a sole trader's number, which is the owner's personnummer (so it is masked like one).
- SE personnummer: samordningsnummer (day + 60), which stdnum rejects; stored as 12 digits.

>>> no_orgnr.validate('923 609 016')
'923609016'
>>> no_orgnr.is_valid('123456785')   # valid mod 11 but not a real range
False
>>> se_orgnr.validate('16556036-0793')
'5560360793'
>>> se_personnummer.validate('701063-2391')  # a samordningsnummer
'197010632391'
>>> se_personnummer.format('197010632391')
'19701063-2391'
>>> mask_national_id('01019012345')
'010190*****'
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import luhn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.no import fodselsnummer as _no_fnr
from stdnum.no import mva as _no_mva
from stdnum.no import orgnr as _no_orgnr
from stdnum.se import orgnr as _se_orgnr
from stdnum.se import personnummer as _se_pnr
from stdnum.se import vat as _se_vat

__all__ = [
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidLength",
    "ValidationError",
    "birth_date",
    "describe_error",
    "is_person_number",
    "mask_national_id",
    "mask_person_numbers",
    "national_id_for",
    "no_fodselsnummer",
    "no_mva",
    "no_orgnr",
    "org_number_for",
    "se_orgnr",
    "se_personnummer",
    "se_vat",
    "vat_number_for",
]

_SEPARATORS = re.compile(r"[\s\-./:]")


def _digits_only(number: str) -> str:
    return _SEPARATORS.sub("", number)


class _Identifier:
    """The four verbs; subclasses implement ``compact``, ``validate`` and ``format``."""

    name = "identifier"
    personal = False  # True: the number identifies a person and is masked in every output

    def compact(self, number: str) -> str:
        raise NotImplementedError

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        raise NotImplementedError

    def is_valid(self, number: str, *, allow_test: bool = False) -> bool:
        try:
            self.validate(number, allow_test=allow_test)
        except ValidationError:
            return False
        return True

    def format(self, number: str) -> str:
        return self.compact(number)


class NoOrgNr(_Identifier):
    """Organisasjonsnummer: 9 digits, mod 11 (stdnum), first digit 8 or 9.

    >>> no_orgnr.compact('NO 976 820 479 MVA')
    '976820479'
    >>> no_orgnr.format('976820479')
    '976 820 479'
    """

    name = "org number"

    def compact(self, number: str) -> str:
        n = _digits_only(number).upper()
        n = n.removeprefix("NO").removesuffix("MVA")
        return n

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        if len(number) == 9 and number.isdigit() and number.isascii():  # the common case, fast
            n = number
            if _no_orgnr.checksum(n) != 0:
                raise InvalidChecksum()
        else:
            n = _no_orgnr.validate(self.compact(number))
        allowed = "2389" if allow_test else "89"
        if n[0] not in allowed:
            raise InvalidComponent(
                "starts with 2 or 3: a synthetic test number (Skatteetaten's test register)"
                if n[0] in "23"
                else "does not start with 8 or 9"
            )
        return n

    def format(self, number: str) -> str:
        return _no_orgnr.format(self.compact(number))


class NoMva(_Identifier):
    """MVA number: ``NO`` + org number + ``MVA`` (stdnum), with the org number rules above.

    >>> no_mva.validate('NO 923 609 016 MVA')
    '923609016MVA'
    """

    name = "VAT number"

    def compact(self, number: str) -> str:
        return _no_mva.compact(_digits_only(number))

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        n = _no_mva.validate(self.compact(number))
        no_orgnr.validate(n[:9], allow_test=allow_test)
        return n

    def format(self, number: str) -> str:
        return _no_mva.format(self.compact(number))


class NoFodselsnummer(_Identifier):
    """Fødselsnummer, D-nummer and H-nummer (stdnum); Tenor synthetic ids with ``allow_test``.

    >>> no_fodselsnummer.validate('151086 95088')
    '15108695088'
    >>> no_fodselsnummer.birth_date('55108695071')   # a D-nummer: day + 40
    datetime.date(1986, 10, 15)
    >>> no_fodselsnummer.birth_date('17912099997', allow_test=True)  # Tenor: month + 80
    datetime.date(2020, 11, 17)
    """

    name = "national id (fødselsnummer)"
    personal = True

    def compact(self, number: str) -> str:
        return _no_fnr.compact(_digits_only(number))

    @staticmethod
    def _synthetic(n: str) -> bool:
        return len(n) == 11 and n.isdigit() and int(n[2:4]) > 80

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        return self._check(number, allow_test)[0]

    def birth_date(self, number: str, *, allow_test: bool = False) -> date:
        return self._check(number, allow_test)[1]

    def _check(self, number: str, allow_test: bool) -> tuple[str, date]:
        """stdnum's validation steps (its own functions, in its order), keeping the birth date
        it works out so that it is computed once per number."""
        n = number if len(number) == 11 and number.isdigit() else self.compact(number)
        if len(n) != 11:
            raise InvalidLength()
        if not (n.isdigit() and n.isascii()):
            raise InvalidFormat()
        if self._synthetic(n) and not allow_test:
            raise InvalidComponent(
                "is a synthetic test id (month + 80, Skatteetaten's test register)"
            )
        if n[9] != _no_fnr.calc_check_digit1(n) or n[10] != _no_fnr.calc_check_digit2(n):
            raise InvalidChecksum()
        # A birth date after today is checked by the caller, who knows what "today" is.
        return n, self._born(n)

    def _born(self, n: str) -> date:
        if self._synthetic(n):
            n = f"{n[:2]}{int(n[2:4]) - 80:02d}{n[4:]}"
        try:
            return _no_fnr.get_birth_date(n)
        except InvalidComponent as exc:
            if n[:1] in "89":
                raise InvalidComponent(
                    "is an FH-number (a health-sector help number), not a national id"
                ) from exc
            raise InvalidComponent("does not contain a valid birth date") from exc


class SePersonnummer(_Identifier):
    """Personnummer and samordningsnummer (day + 60); "-" or "+" (100 years or older).

    The compact form is 12 digits (century resolved), which is unambiguous; ``format`` gives
    ``YYYYMMDD-NNNN``.

    >>> se_personnummer.validate('19121212-1212')
    '191212121212'
    >>> se_personnummer.validate('121212+1212')   # "+": born 1912, not 2012
    '191212121212'
    >>> se_personnummer.birth_date('701063-2391')
    datetime.date(1970, 10, 3)
    """

    name = "personnummer"
    personal = True

    def compact(self, number: str) -> str:
        try:
            return self.validate(number)
        except ValidationError:
            return _digits_only(number).replace("+", "")

    def _split(self, number: str) -> tuple[str, date]:
        """(stdnum's compact form, birth date) for a personnummer or samordningsnummer."""
        n = _se_pnr.compact(number.strip())
        if len(n) not in (11, 13) or n[-5] not in "-+" or not (n[:-5] + n[-4:]).isdigit():
            raise InvalidFormat() if len(n) in (11, 13) else InvalidLength()
        day_at = -7
        day = int(n[day_at : day_at + 2])
        if day > 60:  # samordningsnummer: stdnum has no notion of them
            as_pnr = f"{n[:day_at]}{day - 60:02d}{n[day_at + 2 :]}"
            luhn.validate((n[:-5] + n[-4:])[-10:])
            born = _se_pnr.get_birth_date(as_pnr)
        else:
            _se_pnr.validate(n)
            born = _se_pnr.get_birth_date(n)
        return n, born

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        n, born = self._split(number)
        return f"{born.year // 100:02d}{n[:-5][-6:]}{n[-4:]}"

    def birth_date(self, number: str, *, allow_test: bool = False) -> date:
        return self._split(number)[1]

    def format(self, number: str) -> str:
        n = self.compact(number)
        return f"{n[:8]}-{n[8:]}" if len(n) == 12 else n


class SeOrgNr(_Identifier):
    """Organisationsnummer, 10 digits or 12 with the "16" prefix; compact form: 10 digits.

    Legal entities have digits 3-4 >= 20 (stdnum checks only Luhn). A sole trader (enskild
    firma) uses the owner's personnummer as org number: valid here, and :meth:`is_personal`
    says so, because such a number must be masked like any personnummer.

    >>> se_orgnr.validate('556036-0793')
    '5560360793'
    >>> se_orgnr.is_personal('811228-9874')
    True
    """

    name = "org number"

    def compact(self, number: str) -> str:
        n = _digits_only(number).replace("+", "")
        if len(n) == 12 and n[:2] in ("16", "19", "20"):
            n = n[2:]
        return n

    def is_personal(self, number: str) -> bool:
        n = self.compact(number)
        return len(n) == 10 and n.isdigit() and int(n[2:4]) < 20

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        raw = _digits_only(number)
        n = self.compact(number)
        if len(raw) == 12 and raw[:2] not in ("16", "19", "20"):
            raise InvalidFormat("a 12-digit org number starts with 16 (or 19/20 for a person)")
        if len(raw) == 12 and raw[:2] == "16" and int(n[2:4]) < 20:
            raise InvalidComponent("digits 3-4 must be 20 or more for a legal entity")
        _se_orgnr.validate(n)
        if int(n[2:4]) < 20:
            # A sole trader's personnummer; stdnum's date check (samordningsnummer need not apply).
            se_personnummer.validate(raw if len(raw) == 12 else f"{n[:6]}-{n[6:]}")
        return n

    def format(self, number: str) -> str:
        return _se_orgnr.format(self.compact(number))


class SeVat(_Identifier):
    """Momsregistreringsnummer: ``SE`` + org number (10 digits) + ``01`` (stdnum).

    >>> se_vat.validate('SE 556036079301')
    '556036079301'
    >>> se_vat.format('556036079301')
    'SE556036079301'
    """

    name = "VAT number"

    def compact(self, number: str) -> str:
        return _se_vat.compact(number)

    def validate(self, number: str, *, allow_test: bool = False) -> str:
        n = _se_vat.validate(number)
        se_orgnr.validate(n[:10])
        return n

    def format(self, number: str) -> str:
        return "SE" + self.compact(number)


no_orgnr = NoOrgNr()
no_mva = NoMva()
no_fodselsnummer = NoFodselsnummer()
se_orgnr = SeOrgNr()
se_personnummer = SePersonnummer()
se_vat = SeVat()

_ORG: dict[str, NoOrgNr | SeOrgNr] = {"NO": no_orgnr, "SE": se_orgnr}
_NATIONAL: dict[str, NoFodselsnummer | SePersonnummer] = {
    "NO": no_fodselsnummer,
    "SE": se_personnummer,
}
_VAT: dict[str, NoMva | SeVat] = {"NO": no_mva, "SE": se_vat}


def org_number_for(country: str | None) -> NoOrgNr | SeOrgNr | None:
    return _ORG.get(country or "")


def national_id_for(country: str | None) -> NoFodselsnummer | SePersonnummer | None:
    return _NATIONAL.get(country or "")


def vat_number_for(country: str | None) -> NoMva | SeVat | None:
    return _VAT.get(country or "")


def birth_date(number: str, country: str, *, allow_test: bool = False) -> date | None:
    """The birth date in a national id of ``country`` (NO, SE), or None if it has none.

    >>> birth_date('811228-9874', 'SE')
    datetime.date(1981, 12, 28)
    """
    ident = national_id_for(country)
    if ident is None:
        return None
    try:
        return ident.birth_date(number, allow_test=allow_test)
    except ValidationError:
        return None


def mask_national_id(number: str | None) -> str:
    """Keep the birth date part of a national id and star the rest (never the whole number).

    >>> mask_national_id('010190 12345')
    '010190*****'
    >>> mask_national_id('19900125-2387')
    '19900125****'
    >>> mask_national_id('12-34')
    '****'
    """
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    keep = 8 if len(digits) == 12 else 6 if len(digits) >= 10 else 0
    return digits[:keep] + "*" * (len(digits) - keep)


def is_person_number(number: str) -> bool:
    """Whether ``number`` validates as any supported person number, whatever country it is
    filed under: a Norwegian fødselsnummer, D- or H-number (11 digits, test ids included) or a
    Swedish personnummer or samordningsnummer (10 or 12 digits, ``-`` or ``+``).

    >>> is_person_number('01019012345'), is_person_number('19811228-9874')
    (False, True)
    >>> is_person_number('923609016')   # an org number
    False
    """
    digits = _digits_only(number).replace("+", "")
    if not digits.isdigit() or not digits.isascii():
        return False
    if len(digits) == 11:
        return no_fodselsnummer.is_valid(digits, allow_test=True)
    if len(digits) in (10, 12):
        return se_personnummer.is_valid(number.strip())
    return False


# A number written as a person number may be: 6 or 8 digits, an optional separator, 4 or 5.
_PERSON_NUMBER_LIKE = re.compile(r"(?<![\d])(?:\d{6}|\d{8})[ \-+]?\d{4,5}(?![\d])")


def mask_person_numbers(text: str) -> str:
    """``text`` with every number in it that validates as a person number masked (see
    :func:`is_person_number`); other numbers are left alone.

    >>> mask_person_numbers('org number 15108695088 has the wrong length')
    'org number 151086***** has the wrong length'
    >>> mask_person_numbers('invoice 10001, org 923609016, pnr 811228-9874')
    'invoice 10001, org 923609016, pnr 811228****'
    """
    if not any(ch.isdigit() for ch in text):
        return text

    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        return mask_national_id(found) if is_person_number(found) else found

    return _PERSON_NUMBER_LIKE.sub(one, text)


_REASONS = {
    InvalidChecksum: "has a wrong check digit",
    InvalidLength: "has the wrong length",
    InvalidFormat: "is not in a valid format",
    InvalidComponent: "is not valid",
}


def describe_error(exc: ValidationError, expected_length: int | None = None) -> str:
    """A short human phrase for a stdnum error ("has a wrong check digit")."""
    if isinstance(exc, InvalidComponent | InvalidFormat) and exc.args:
        return str(exc.args[0])
    for kind, reason in _REASONS.items():
        if isinstance(exc, kind):
            if kind is InvalidLength and expected_length:
                return f"has the wrong length (expected {expected_length} digits)"
            return reason
    return "is not valid"
