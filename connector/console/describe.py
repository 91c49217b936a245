"""Findings in plain language: what is wrong, and how to fix it in the accounting system."""

from __future__ import annotations

from connector.validation.findings import RULES

# code → (what is wrong, how to fix it)
TEXTS: dict[str, tuple[str, str]] = {
    "org_number.missing": (
        "The customer has no organisation number.",
        "Add the organisation number on the customer card.",
    ),
    "org_number.invalid": (
        "The organisation number is not a valid number.",
        "Correct the organisation number on the customer card (check digits).",
    ),
    "org_number.not_found": (
        "No company with this organisation number exists in the register.",
        "Check the number against the company's letters or the public register.",
    ),
    "org_number.deleted": (
        "The company has been deleted from the register.",
        "Stop reminders; find out who took over the debt, or write the claim off.",
    ),
    "org_number.bankrupt": (
        "The company is bankrupt.",
        "Lodge the claim with the bankruptcy estate instead of reminding.",
    ),
    "org_number.dissolving": (
        "The company is being dissolved.",
        "Reminders may go on; lodge the claim with the liquidator as well.",
    ),
    "national_id.missing": (
        "The private customer has no national identity number.",
        "Optional: name, address and birth date identify a consumer.",
    ),
    "national_id.invalid": (
        "The national identity number is not valid.",
        "Correct it on the customer card before a handover to debt collection.",
    ),
    "vat_number.invalid": (
        "The VAT number is not valid.",
        "Correct the VAT number on the customer card.",
    ),
    "address.missing": (
        "The customer has no address.",
        "Add the invoice address on the customer card.",
    ),
    "address.street.missing": (
        "The address has no street.",
        "Add the street address on the customer card.",
    ),
    "address.postcode.missing": (
        "The address has no postcode.",
        "Add the postcode on the customer card.",
    ),
    "address.postcode.invalid": (
        "The postcode does not exist.",
        "Correct the postcode on the customer card.",
    ),
    "address.city.missing": ("The address has no city.", "Add the city on the customer card."),
    "address.city.mismatch": (
        "The city does not match the postcode.",
        "Check postcode and city on the customer card; one of them is likely a typo.",
    ),
    "address.country.missing": (
        "The address has no country.",
        "Add the country on the customer card (the company's own country is assumed).",
    ),
    "email.missing": (
        "The customer has no e-mail address.",
        "Add an e-mail address to send reminders by e-mail; letters still work.",
    ),
    "email.invalid": (
        "The e-mail address is not valid.",
        "Correct the e-mail address on the customer card.",
    ),
    "phone.invalid": ("The phone number is not valid.", "Correct the phone number."),
    "contact_person.missing": (
        "The company customer has no contact person.",
        "Add a contact person on the customer card.",
    ),
    "customer.duplicate": (
        "The customer appears more than once.",
        "Merge the duplicate customer cards in the accounting system.",
    ),
    "invoice.customer.missing": (
        "The invoice has no customer.",
        "Set the customer on the invoice in the accounting system.",
    ),
    "record.malformed": (
        "The accounting system sent a record kravsync could not read.",
        "Open the record in the accounting system and save it again; report it if it stays.",
    ),
}


def describe(code: str) -> tuple[str, str, str]:
    """(what is wrong, how to fix it, why it matters) for a finding code."""
    what, fix = TEXTS.get(code, (code, "See the message."))
    rule = RULES.get(code)
    return what, fix, rule.why if rule else ""
