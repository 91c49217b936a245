"""The findings' plain-language texts (what, why, how to fix) are translated for the console:
every string :func:`connector.console.describe.describe` returns has an nb and an sv entry in the
compiled catalogs, so a new finding code without a translation fails here. No server needed."""

from __future__ import annotations

from connector.console.describe import TEXTS, describe
from connector.console.templating import translations


def test_every_finding_text_is_translated_to_nb_and_sv() -> None:
    texts = {s for code in TEXTS for s in describe(code) if s}
    texts.add(describe("no.such.code")[1])  # the fallback "how to fix it" of an unknown code
    for language in ("nb", "sv"):
        catalog = translations(language)
        missing = sorted(s for s in texts if catalog.gettext(s) == s)
        assert not missing, f"{language}: no translation for {missing}"
