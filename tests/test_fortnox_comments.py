"""kravsync's audit lines in a Fortnox invoice's Comments (pure text functions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.models import ActionStage, ReminderAction
from providers.fortnox import comments

ON = date(2026, 3, 2)


def action(invoice: str = "1", **over: object) -> ReminderAction:
    values: dict[str, object] = {
        "tenant": "acme-se",
        "invoice_id": invoice,
        "invoice_number": invoice,
        "customer_id": "4",
        "stage": ActionStage.COLLECTION_NOTICE,
        "planned_on": ON,
        "fee": Decimal("180"),
        "interest": Decimal("7.5"),
        "currency": "SEK",
        "outstanding": Decimal("100"),
    }
    values.update(over)
    return ReminderAction.model_validate(values)


def test_sent_line_format_and_round_trip() -> None:
    a = action(compensation=Decimal("450"))
    line = comments.sent(a, ON, "abc123")
    assert line == (
        "kravsync:acme-se:1:collection_notice:1 collection_notice sent 2026-03-02 "
        "fee=180.00 interest=7.50 compensation=450.00 letter=abc123"
    )
    mark = comments.find(f"Ring kunden först\n{line}", a.idempotency_key)
    assert mark is not None
    assert (mark.state, mark.on, mark.letter) == ("sent", ON, "abc123")


def test_a_key_never_matches_a_longer_key() -> None:
    ten = action("10")
    text = comments.sending(ten.idempotency_key, ON, "d")
    assert comments.find(text, action("1").idempotency_key) is None
    assert comments.find(text, ten.idempotency_key) is not None


def test_put_replaces_the_keys_line_and_keeps_the_users_text() -> None:
    a = action()
    user = "Kunden bestrider 2 st rader – Åsa ringer\nkravsync: manual note by Göran"
    marked = comments.put(
        user + "\n\n", a.idempotency_key, comments.sending(a.idempotency_key, ON, "d")
    )
    done = comments.put(marked, a.idempotency_key, comments.sent(a, ON, "d"))
    assert done.splitlines()[:2] == user.splitlines()
    assert done.count("kravsync:acme-se") == 1 and "sending" not in done
    assert comments.find(user, a.idempotency_key) is None  # the user's own "kravsync:" line
    assert comments.remove(done, a.idempotency_key) == user


def test_put_refuses_to_exceed_fortnox_limit() -> None:
    a = action()
    with pytest.raises(ValueError, match="1024"):
        comments.put("x" * 1000, a.idempotency_key, comments.sent(a, ON, "d"))


def test_letter_digest_depends_on_the_set_and_order_of_actions() -> None:
    assert comments.letter_digest(("a", "b")) == comments.letter_digest(["a", "b"])
    assert comments.letter_digest(("a", "b")) != comments.letter_digest(("a",))
