"""The one set of templates: the console's pages and the printed report (`report --format html`).

Autoescape is on for every template; every printed value also has its person numbers masked."""

from __future__ import annotations

import gettext
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from connector.clock import NORDIC
from connector.console.svg import aging_chart
from connector.render.report import BUCKETS
from connector.render.views import STAGE_NAMES
from connector.validation.identifiers import mask_person_numbers
from providers.weblinks import customer_url

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = Path(__file__).parent / "locale"
LANGUAGES = {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska"}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The console's catalog for ``language`` (English: the texts as written)."""
    if language not in LANGUAGES or language == "en":
        return gettext.NullTranslations()
    return gettext.translation("kravsync", LOCALES, languages=[language], fallback=True)


def i18n(language: str) -> dict[str, Any]:
    """What a template needs to speak ``language``: ``_``, ``gettext``, ``ngettext``, ``lang``."""
    t = translations(language if language in LANGUAGES else "en")
    return {"_": t.gettext, "gettext": t.gettext, "ngettext": t.ngettext, "lang": language}


def _shown(value: Any) -> Any:
    """Every value a template prints: person numbers masked (autoescape does the HTML)."""
    if isinstance(value, Markup):  # markup built by the console itself (the chart, a macro)
        return Markup(mask_person_numbers(str(value)))
    return mask_person_numbers(value) if isinstance(value, str) else value


def money(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}".replace(",", "\u00a0")


def local_time(value: datetime | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(NORDIC).strftime("%Y-%m-%d %H:%M %Z")


def stage_name(country: str, stage: str, sequence: int | None = None) -> str:
    """The legal term of a stage in the tenant's country (purring, inkassovarsel, påminnelse...)."""
    name = STAGE_NAMES.get(country, {}).get(stage, stage.replace("_", " "))
    return f"{name} {sequence}" if sequence and sequence > 1 else name


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=_shown,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["local"] = local_time
    env.globals["aging_chart"] = aging_chart
    env.globals["BUCKETS"] = BUCKETS
    env.globals["stage_name"] = stage_name
    env.globals["customer_url"] = customer_url
    env.globals.update(i18n("en"))
    env.globals["LANGUAGES"] = LANGUAGES
    return env
