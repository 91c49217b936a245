"""E-mail syntax (email-validator) and phone numbers (phonenumbers), fast enough for 20k/s.

email-validator is thorough and slow (~50 µs). Most real addresses are plain ASCII of a shape
it always accepts, so those pass a strict regex first; everything else goes to email-validator.
Likewise ``phonenumbers.parse`` + ``is_valid_number`` cost ~60 µs; numbers written as
``+CC digits`` or, where the region has no national prefix (Norway), as plain digits skip the
parser and are matched against phonenumbers' own metadata in the order its
``is_valid_number`` uses. ``tests/test_validation_contacts.py`` checks both shortcuts against
the libraries with hypothesis.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import PhoneMetadata

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# local part: dot-atoms of a conservative character set; domain: LDH labels, alphabetic TLD.
PLAIN_EMAIL = re.compile(
    rf"[A-Za-z0-9_+-]{{1,64}}(?:\.[A-Za-z0-9_+-]+)*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"
)
_SPECIAL = frozenset(n for n in SPECIAL_USE_DOMAIN_NAMES if "." not in n)
_SPECIAL_MULTI = tuple("." + n for n in SPECIAL_USE_DOMAIN_NAMES if "." in n)


def _plain(address: str) -> bool:
    if len(address) > 254 or not PLAIN_EMAIL.fullmatch(address):
        return False
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    if len(local) > 64 or "--" in domain:  # punycode ("xn--") and friends: the full check
        return False
    if domain.rpartition(".")[2] in _SPECIAL:
        return False
    return not ("." + domain).endswith(_SPECIAL_MULTI)


@lru_cache(maxsize=65536)
def email_problem(address: str) -> str | None:
    """None when ``address`` is a syntactically valid e-mail address, else why not.

    >>> email_problem('kari.nordmann@example.no') is None
    True
    >>> email_problem('post@maloysjomat')
    'The part after the @-sign is not valid. It should have a period.'
    """
    if _plain(address):
        return None
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


FAST_REGIONS = frozenset({"NO", "SE", "DK", "FI", "IS"})  # checked against phonenumbers in tests
_PHONE_JUNK = re.compile(r"[\s\-./()]")
_DESCS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip

_Desc = tuple[re.Pattern[str], frozenset[int]]


def _desc(desc: Any) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return re.compile(desc.national_number_pattern), frozenset(desc.possible_length or ())


def _matches(nsn: str, desc: _Desc | None) -> bool:
    if desc is None:
        return False
    pattern, lengths = desc
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


@cache
def _calling_plan(
    cc: int,
) -> tuple[tuple[re.Pattern[str] | None, _Desc | None, tuple[_Desc, ...]], ...]:
    """Per region sharing calling code ``cc``: (leading digits, general desc, type descs)."""
    plan = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
        md = PhoneMetadata.metadata_for_region(region, None)
        if md is None:
            continue
        names = [n for n in _DESCS if not (n == "mobile" and md.same_mobile_and_fixed_line_pattern)]
        types = tuple(d for d in (_desc(getattr(md, n)) for n in names) if d is not None)
        leading = re.compile(md.leading_digits) if md.leading_digits else None
        plan.append((leading, _desc(md.general_desc), types))
    return tuple(plan)


@lru_cache(maxsize=1024)
def _any_type(cc: int, index: int, length: int) -> re.Pattern[str] | None:
    """The type descs of one region that admit ``length``, as one alternation (None: none)."""
    types = _calling_plan(cc)[index][2]
    alts = [p.pattern for p, lengths in types if not lengths or length in lengths]
    return re.compile("|".join(f"(?:{a})" for a in alts)) if alts else None


def _fast_valid(cc: int, nsn: str) -> bool:
    """phonenumbers' ``is_valid_number`` for a parsed (cc, national number without 0 prefix)."""
    for index, (leading, general, _types) in enumerate(_calling_plan(cc)):
        if leading is not None and not leading.match(nsn):
            continue
        types = _any_type(cc, index, len(nsn))
        valid = _matches(nsn, general) and types is not None and types.fullmatch(nsn) is not None
        if leading is not None or valid:
            return valid
    return False


@lru_cache(maxsize=64)
def _region_plan(region: str) -> tuple[int, bool]:
    """(calling code, whether national numbers are written without a prefix) for ``region``."""
    md = PhoneMetadata.metadata_for_region(region, None)
    if md is None:
        return 0, False
    plain = not md.national_prefix and not md.national_prefix_for_parsing
    return phonenumbers.country_code_for_region(region), plain


def fast_phone_valid(number: str, region: str) -> bool | None:
    """The shortcut; None when the number is not of a shape it handles."""
    if region not in FAST_REGIONS:
        return None
    s = _PHONE_JUNK.sub("", number)
    cc, plain = _region_plan(region)
    if not cc:
        return None
    if s.startswith("+"):
        prefix = f"+{cc}"
        if not s.startswith(prefix):
            return None
        nsn = s[len(prefix) :]
    elif plain and not s.startswith(str(cc)):  # "4791234567": parse may read "47" as the code
        nsn = s
    else:
        return None
    if not nsn.isdigit() or not nsn.isascii() or nsn.startswith("0") or len(nsn) > 17:
        return None
    return _fast_valid(cc, nsn)


@lru_cache(maxsize=65536)
def phone_ok(number: str, region: str | None) -> bool:
    """Whether ``number`` is a valid phone number, read as dialled in ``region`` (ISO alpha-2).

    >>> phone_ok('+47 22 35 17 80', 'NO'), phone_ok('915 24 680', 'NO'), phone_ok('12 34', 'NO')
    (True, True, False)
    """
    fast = fast_phone_valid(number, region or "NO")
    if fast is not None:
        return fast
    return slow_phone_ok(number, region)


def slow_phone_ok(number: str, region: str | None) -> bool:
    """phonenumbers' own parse + is_valid_number."""
    try:
        parsed = phonenumbers.parse(number, region or "NO")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)
