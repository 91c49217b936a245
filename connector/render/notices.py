"""Reminder and collection letters: the text and the PDF, in Norwegian (NO) or Swedish (SE).

One letter per customer × stage × currency. The wording carries what the law asks of each stage
(DESIGN.md §4): per invoice its number, due date, open amount, fee, interest, B2B compensation and
KID/OCR; the payment deadline, the creditor's account and the total; for a Norwegian inkassovarsel
(inkassoloven § 9) that the claim goes to inkasso if unpaid by the deadline, for a Swedish
inkassokrav (inkassolagen 5 §) what follows if unpaid and where to object. A handover needs no
notice to the customer: its letter is a short internal record. National ids never appear.

The PDF is drawn with fpdf2 in a Unicode TTF font when one is found (``KRAVSYNC_PDF_FONT``, a
font shipped inside an installed package, or Debian's fonts-dejavu-core); otherwise in the core
Helvetica font with the text folded to latin-1, which still keeps æøå and åäö.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib.util import find_spec
from pathlib import Path

from fpdf import FPDF

from connector.models import ActionStage, Customer, Invoice, ReminderAction
from providers.base import Letter

FONT_ENV = "KRAVSYNC_PDF_FONT"
# Relative to an installed package's directory, then absolute system paths.
_PACKAGE_FONTS = (("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf"),)
_SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)


@dataclass(frozen=True)
class Creditor:
    """The tenant company as it signs its letters."""

    name: str
    org_number: str | None = None
    account: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class _Words:
    title: str
    subject: str
    intro: str
    deadline: str  # "{deadline}" placeholder
    law: tuple[str, ...]  # the legally required statements ("{deadline}" placeholder)
    closing: str
    file_stem: str


_NO_COMMON_CLOSING = (
    "Har du betalt i mellomtiden, kan du se bort fra dette brevet. Har du innsigelser mot "
    "kravet, ta kontakt med oss så snart som mulig."
)
_SE_COMMON_CLOSING = "Har du redan betalat kan du bortse från detta brev."

_WORDS: dict[tuple[str, ActionStage], _Words] = {
    ("NO", ActionStage.REMINDER): _Words(
        title="PURRING",
        subject="Purring",
        intro="Vi kan ikke se å ha mottatt betaling for følgende faktura(er):",
        deadline="Vi ber om at totalbeløpet betales innen {deadline}.",
        law=(
            "Ved forsinket betaling påløper forsinkelsesrente etter forsinkelsesrenteloven til "
            "betaling skjer.",
        ),
        closing=_NO_COMMON_CLOSING,
        file_stem="purring",
    ),
    ("NO", ActionStage.COLLECTION_NOTICE): _Words(
        title="INKASSOVARSEL",
        subject="Inkassovarsel",
        intro="Følgende faktura(er) er forfalt og fortsatt ikke betalt:",
        deadline="Betalingsfrist: {deadline}.",
        law=(
            "Dersom kravet ikke er betalt innen {deadline}, vil det bli sendt til inkasso "
            "(inkassoloven § 9). Du kan da bli ansvarlig for inkassosalær og andre "
            "inndrivningskostnader i tillegg til kravet.",
            "Ved forsinket betaling påløper forsinkelsesrente etter forsinkelsesrenteloven til "
            "betaling skjer.",
        ),
        closing=_NO_COMMON_CLOSING + " Innsigelser bør gis før betalingsfristen.",
        file_stem="inkassovarsel",
    ),
    ("NO", ActionStage.HANDOVER): _Words(
        title="OVERFØRT TIL INKASSO",
        subject="Overført til inkasso",
        intro="Internt notat: følgende krav er overført til inkasso etter at fristen i "
        "inkassovarselet løp ut uten betaling:",
        deadline="",
        law=(
            "Inkassovarsel er sendt tidligere (inkassoloven § 9); nytt varsel til kunden er "
            "ikke nødvendig.",
        ),
        closing="Dette notatet sendes ikke til kunden.",
        file_stem="overfort-inkasso",
    ),
    ("SE", ActionStage.REMINDER): _Words(
        title="BETALNINGSPÅMINNELSE",
        subject="Betalningspåminnelse",
        intro="Enligt våra noteringar har vi inte fått betalt för följande faktura(or):",
        deadline="Vi ber dig betala det totala beloppet senast {deadline}.",
        law=("Betalar du inte debiteras dröjsmålsränta enligt räntelagen tills betalning sker.",),
        closing=_SE_COMMON_CLOSING + " Har du invändningar mot kravet, kontakta oss.",
        file_stem="betalningspaminnelse",
    ),
    ("SE", ActionStage.COLLECTION_NOTICE): _Words(
        title="INKASSOKRAV",
        subject="Inkassokrav",
        intro="Följande fordran är förfallen och obetald:",
        deadline="Betala senast {deadline}.",
        law=(
            "Om betalning inte sker senast {deadline} kommer fordran att överlämnas till inkasso "
            "och kan komma att drivas in genom ansökan om betalningsföreläggande hos "
            "Kronofogdemyndigheten, vilket medför ytterligare kostnader för dig "
            "(inkassolagen 5 §).",
            "Betalar du inte debiteras dröjsmålsränta enligt räntelagen tills betalning sker.",
        ),
        closing=_SE_COMMON_CLOSING
        + " Har du invändningar mot kravet ska du framföra dem till oss före {deadline}: {where}.",
        file_stem="inkassokrav",
    ),
    ("SE", ActionStage.HANDOVER): _Words(
        title="ÖVERLÄMNAD TILL INKASSO",
        subject="Överlämnad till inkasso",
        intro="Intern anteckning: följande fordran har överlämnats till inkasso efter att "
        "fristen i inkassokravet löpt ut utan betalning:",
        deadline="",
        law=("Inkassokrav har skickats tidigare (inkassolagen 5 §).",),
        closing="Denna anteckning skickas inte till kunden.",
        file_stem="overlamnad-inkasso",
    ),
}


@dataclass(frozen=True)
class _Labels:
    invoice: str
    customer_no: str
    date: str
    due: str
    open: str
    fee: dict[ActionStage, str]
    interest: str  # "{on}" placeholder
    compensation: str
    ref: str
    sum: str
    total: str
    pay_to: str  # "{account}" placeholder
    deadline: str
    earlier: str  # still open on the fee invoices of earlier letters
    org: str = "Org.nr."


_LABELS = {
    "NO": _Labels(
        invoice="Faktura",
        customer_no="Kundenr.",
        date="Dato",
        due="Forfallsdato",
        open="Utestående",
        fee={
            ActionStage.REMINDER: "Purregebyr",
            ActionStage.COLLECTION_NOTICE: "Gebyr for inkassovarsel",
            ActionStage.HANDOVER: "Gebyr",
        },
        interest="Forsinkelsesrente per {on}",
        compensation="Standardkompensasjon (forsinkelsesrenteloven § 3a)",
        ref="KID",
        sum="Å betale",
        total="Totalt å betale",
        pay_to="Betales til konto {account}. Bruk KID for hver faktura.",
        deadline="Frist",
        earlier="Ubetalte gebyr fra tidligere brev (egen faktura)",
    ),
    "SE": _Labels(
        invoice="Faktura",
        customer_no="Kundnr.",
        date="Datum",
        due="Förfallodag",
        open="Obetalt belopp",
        fee={
            ActionStage.REMINDER: "Påminnelseavgift",
            ActionStage.COLLECTION_NOTICE: "Inkassoavgift",
            ActionStage.HANDOVER: "Avgift",
        },
        interest="Dröjsmålsränta per {on}",
        compensation="Förseningsersättning (lag 1981:739, 4 a §)",
        ref="OCR",
        sum="Att betala",
        total="Totalt att betala",
        pay_to="Betala till {account}. Ange OCR-nummer för varje faktura.",
        deadline="Frist",
        earlier="Obetalda avgifter från tidigare brev (egen faktura)",
    ),
}


def money(amount: Decimal, currency: str) -> str:
    """Norwegian/Swedish style: ``1 234,50 kr`` (other currencies by their code)."""
    quantized = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    whole, cents = f"{abs(quantized):.2f}".split(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    unit = "kr" if currency in ("NOK", "SEK") else currency
    return f"{sign}{' '.join(groups)},{cents} {unit}"


def day(on: date) -> str:
    return on.strftime("%d.%m.%Y")


def account_text(account: str, country: str) -> str:
    """A Norwegian 11-digit account as ``1503.50.12348``; anything else as given."""
    digits = account.replace(" ", "").replace(".", "")
    if country == "NO" and len(digits) == 11 and digits.isdigit():
        return f"{digits[:4]}.{digits[4:6]}.{digits[6:]}"
    return account


@dataclass(frozen=True)
class _Row:
    label: str
    value: str


@dataclass(frozen=True)
class _Body:
    """The letter as structured content, rendered both as plain text and as a PDF."""

    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    dated: str
    title: str
    intro: str
    invoices: tuple[tuple[str, tuple[_Row, ...]], ...]
    total: _Row
    paragraphs: tuple[str, ...]


def render_letter(
    *,
    tenant: str,
    country: str,
    creditor: Creditor,
    customer: Customer | None,
    stage: ActionStage,
    currency: str,
    actions: Sequence[ReminderAction],
    invoices: Sequence[Invoice],
    today: date,
    font_path: str | Path | None = None,
    compress: bool = True,
) -> Letter:
    """The letter for ``actions`` (``actions[i]`` is about ``invoices[i]``), dated ``today``.

    ``font_path``: a TTF to draw the PDF with (default: found, see the module docstring; ``""``
    forces the core font). ``compress=False`` leaves the PDF's text streams readable (tests).
    """
    if not actions or len(actions) != len(invoices):
        raise ValueError("a letter needs one action per invoice, at least one")
    words = _WORDS.get((country, stage))
    if words is None:
        raise ValueError(f"no letter wording for country {country!r}")
    for action, invoice in zip(actions, invoices, strict=True):
        if action.invoice_id != invoice.provider_id or action.stage is not stage:
            raise ValueError(f"action {action.idempotency_key} does not match its invoice/stage")
        if action.currency != currency:
            raise ValueError(f"action {action.idempotency_key} is in {action.currency}")
    body = _body(country, creditor, customer, stage, currency, actions, invoices, today, words)
    text = _as_text(body)
    numbers = "-".join(inv.number for inv in invoices)
    subject_numbers = ", ".join(inv.number for inv in invoices)
    label = _LABELS[country].invoice
    return Letter(
        tenant=tenant,
        customer=customer,
        stage=stage,
        currency=currency,
        actions=tuple(actions),
        invoices=tuple(invoices),
        subject=f"{words.subject} – {label.lower()} {subject_numbers} – {creditor.name}",
        text=text,
        pdf=letter_pdf(body, today=today, font_path=font_path, compress=compress),
        filename=f"{words.file_stem}-{numbers}.pdf",
    )


def _deadline(actions: Sequence[ReminderAction]) -> date | None:
    # The earliest: a handover may follow each invoice's own deadline, never an earlier one.
    deadlines = [a.deadline for a in actions if a.deadline is not None]
    return min(deadlines) if deadlines else None


def _body(
    country: str,
    creditor: Creditor,
    customer: Customer | None,
    stage: ActionStage,
    currency: str,
    actions: Sequence[ReminderAction],
    invoices: Sequence[Invoice],
    today: date,
    words: _Words,
) -> _Body:
    labels = _LABELS[country]
    deadline = _deadline(actions)
    fill = {
        "deadline": day(deadline) if deadline else "",
        "where": ", ".join(p for p in (creditor.name, creditor.address) if p),
    }
    sender = [creditor.name]
    if creditor.address:
        sender.append(creditor.address)
    if creditor.org_number:
        sender.append(f"{labels.org} {creditor.org_number}")
    recipient: list[str] = []
    if customer is not None:
        recipient.append(customer.name)
        addr = customer.invoice_address
        if addr is not None:
            recipient.extend(p for p in (addr.street, addr.street2) if p)
            place = " ".join(p for p in (addr.postcode, addr.city) if p)
            if place:
                recipient.append(place)
        if customer.number:
            recipient.append(f"{labels.customer_no} {customer.number}")
    elif invoices[0].customer_name:
        recipient.append(invoices[0].customer_name)
    blocks: list[tuple[str, tuple[_Row, ...]]] = []
    total = Decimal("0")
    deadlines_differ = len({a.deadline for a in actions}) > 1
    for action, invoice in zip(actions, invoices, strict=True):
        rows = [
            _Row(labels.due, day(invoice.due_date)),
            _Row(labels.open, money(action.outstanding, currency)),
        ]
        due = action.outstanding
        if action.fee:
            rows.append(_Row(labels.fee[stage], money(action.fee, currency)))
            due += action.fee
        if action.interest:
            interest_label = labels.interest.format(on=day(action.planned_on))
            rows.append(_Row(interest_label, money(action.interest, currency)))
            due += action.interest
        if action.compensation:
            rows.append(_Row(labels.compensation, money(action.compensation, currency)))
            due += action.compensation
        if action.earlier_fees:
            rows.append(_Row(labels.earlier, money(action.earlier_fees, currency)))
            due += action.earlier_fees
        if invoice.payment_reference:
            rows.append(_Row(labels.ref, invoice.payment_reference))
        if deadlines_differ and action.deadline is not None:
            rows.append(_Row(labels.deadline, day(action.deadline)))
        rows.append(_Row(labels.sum, money(due, currency)))
        total += due
        blocks.append((f"{labels.invoice} {invoice.number}", tuple(rows)))
    paragraphs = []
    if words.deadline and deadline is not None:
        paragraphs.append(words.deadline.format(**fill))
    if creditor.account and stage is not ActionStage.HANDOVER:
        paragraphs.append(labels.pay_to.format(account=account_text(creditor.account, country)))
    paragraphs.extend(p.format(**fill) for p in words.law)
    paragraphs.append(words.closing.format(**fill))
    return _Body(
        sender=tuple(sender),
        recipient=tuple(recipient),
        dated=f"{labels.date}: {day(today)}",
        title=words.title,
        intro=words.intro,
        invoices=tuple(blocks),
        total=_Row(labels.total, money(total, currency)),
        paragraphs=tuple(paragraphs),
    )


def _as_text(body: _Body) -> str:
    lines = [*body.sender, "", *body.recipient, "", body.dated, "", body.title, "", body.intro]
    for heading, rows in body.invoices:
        lines += ["", heading]
        lines += [f"  {row.label}: {row.value}" for row in rows]
    lines += ["", f"{body.total.label}: {body.total.value}"]
    for paragraph in body.paragraphs:
        lines += ["", paragraph]
    lines += ["", body.sender[0]]
    return "\n".join(lines) + "\n"


# --- PDF ----------------------------------------------------------------------------------------


def find_unicode_font() -> Path | None:
    """A TTF with æøå/åäö: ``$KRAVSYNC_PDF_FONT``, one inside an installed package, or DejaVu."""
    env = os.environ.get(FONT_ENV)
    candidates: list[Path] = [Path(env)] if env else []
    for package, relative in _PACKAGE_FONTS:
        spec = find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            candidates += [Path(loc) / relative for loc in spec.submodule_search_locations]
    candidates += [Path(p) for p in _SYSTEM_FONTS]
    return next((p for p in candidates if p.is_file()), None)


def latin1(text: str) -> str:
    """Fold to latin-1 for a core font: æøåäöé stay, other letters lose their marks, dashes and
    quotes become ASCII, anything else becomes ``?``."""
    out = []
    for ch in text.replace("–", "-").replace("—", "-").replace("’", "'").replace("€", "EUR"):
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


class _Pdf(FPDF):
    def __init__(self, font_path: Path | None) -> None:
        super().__init__(format="A4")
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=20)
        if font_path is not None:
            self.add_font("Letter", "", str(font_path))
            bold = font_path.with_name(font_path.stem + "-Bold" + font_path.suffix)
            self.add_font("Letter", "B", str(bold if bold.is_file() else font_path))
            self.family_name = "Letter"
            self.fold = False
        else:
            self.family_name = "Helvetica"
            self.fold = True

    def write_line(self, text: str, *, size: float = 10, bold: bool = False, h: float = 5) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(0, h, latin1(text) if self.fold else text, new_x="LMARGIN", new_y="NEXT")

    def row(self, label: str, value: str, *, bold: bool = False) -> None:
        self.set_font(self.family_name, "B" if bold else "", 10)
        fold = latin1 if self.fold else str
        self.cell(100, 5, fold(label))
        self.cell(0, 5, fold(value), align="R", new_x="LMARGIN", new_y="NEXT")


def letter_pdf(
    body: _Body, *, today: date, font_path: str | Path | None = None, compress: bool = True
) -> bytes:
    """Draw ``body``; ``font_path=""`` forces the core-font fallback (tests)."""
    if font_path is None:
        font = find_unicode_font()
    else:
        font = Path(font_path) if str(font_path) else None
    pdf = _Pdf(font)
    pdf.set_compression(compress)
    # Fixed metadata: the same letter gives the same bytes (creation date = the letter's date).
    pdf.set_creation_date(datetime(today.year, today.month, today.day, tzinfo=UTC))
    pdf.set_title(body.title)
    pdf.set_author(body.sender[0])
    pdf.add_page()
    for line in body.sender:
        pdf.write_line(line, bold=line == body.sender[0])
    pdf.ln(8)
    for line in body.recipient:
        pdf.write_line(line)
    pdf.ln(6)
    pdf.write_line(body.dated)
    pdf.ln(4)
    pdf.write_line(body.title, size=14, bold=True, h=7)
    pdf.ln(2)
    pdf.write_line(body.intro)
    for heading, rows in body.invoices:
        pdf.ln(3)
        pdf.write_line(heading, bold=True)
        for r in rows:
            pdf.row(r.label, r.value, bold=r is rows[-1])
    pdf.ln(3)
    pdf.row(body.total.label, body.total.value, bold=True)
    for paragraph in body.paragraphs:
        pdf.ln(3)
        pdf.write_line(paragraph)
    return bytes(pdf.output())


__all__ = ["Creditor", "find_unicode_font", "latin1", "money", "render_letter"]
