"""Where a record opens in the accounting system's own web app, for a person to fix it there.

- Fiken: a contact is ``https://fiken.no/foretak/{company slug}/kontakter/kontakt/{contactId}``.
- Tripletex: a customer is ``https://tripletex.no/execute/customerMenu?customerId={id}``, with
  ``contextId={company id}`` for a client company an accountant's login reaches (company ``0``,
  the login's own, needs none).
- Fortnox: none. Its web app's addresses carry a workspace id that no public API gives.

Neither address is in the providers' API descriptions; both are the web apps' own addresses as
integrations link to them, not checked against a live account here. The id is URL-quoted.
"""

from __future__ import annotations

from urllib.parse import quote

FIKEN_WEB = "https://fiken.no"
TRIPLETEX_WEB = "https://tripletex.no"


def customer_url(provider: str, company: str | None, customer_id: str) -> str | None:
    """The customer's page in ``provider``'s web app, or None where there is none to build."""
    if not customer_id:
        return None
    if provider == "fiken" and company:
        return (
            f"{FIKEN_WEB}/foretak/{quote(company, safe='')}/kontakter/kontakt/"
            f"{quote(customer_id, safe='')}"
        )
    if provider == "tripletex":
        url = f"{TRIPLETEX_WEB}/execute/customerMenu?customerId={quote(customer_id, safe='')}"
        if company and company != "0":
            url += f"&contextId={quote(company, safe='')}"
        return url
    return None


__all__ = ["customer_url"]
