"""Links from a finding to the record in the accounting system's web app."""

from __future__ import annotations

from providers.weblinks import customer_url


def test_fiken_links_the_contact_in_the_companys_web_app() -> None:
    assert (
        customer_url("fiken", "fjord-as", "1234")
        == "https://fiken.no/foretak/fjord-as/kontakter/kontakt/1234"
    )


def test_tripletex_names_the_client_company_only_when_it_is_not_the_logins_own() -> None:
    own = "https://tripletex.no/execute/customerMenu?customerId=77"
    assert customer_url("tripletex", "0", "77") == own
    assert customer_url("tripletex", None, "77") == own
    assert customer_url("tripletex", "4321", "77") == own + "&contextId=4321"


def test_ids_from_the_provider_cannot_break_out_of_the_address() -> None:
    url = customer_url("fiken", "a/b", '1"><script>&x=1')
    assert url == "https://fiken.no/foretak/a%2Fb/kontakter/kontakt/1%22%3E%3Cscript%3E%26x%3D1"


def test_no_link_where_none_can_be_built() -> None:
    assert customer_url("fortnox", "ignored", "1") is None  # the web app needs a workspace id
    assert customer_url("fiken", None, "1") is None  # no company slug
    assert customer_url("fiken", "fjord-as", "") is None
