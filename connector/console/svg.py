"""The aging chart, drawn on the server as SVG (no script, no image file)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from markupsafe import Markup, escape

from connector.render.report import BUCKETS

_W, _H, _PAD, _LABEL = 560, 180, 8, 34
_COLOURS = ("#5b8c5a", "#c9b23a", "#d9902f", "#d0662b", "#b8412b", "#7f1d1d")


def _short(value: Decimal) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} M"
    if value >= 10_000:
        return f"{value / 1000:.0f} k"
    return f"{value:,.0f}".replace(",", " ")


def aging_chart(buckets: Mapping[str, Decimal], currency: str) -> Markup:
    """Bars per bucket of days overdue, each labelled with its amount."""
    top = max((Decimal(buckets.get(b, 0)) for b in BUCKETS), default=Decimal(0)) or Decimal(1)
    slot = (_W - 2 * _PAD) / len(BUCKETS)
    plot = _H - _LABEL - 18
    parts = [
        f'<svg class="aging" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(f"Aging of open {currency} invoices by days overdue")}">'
    ]
    for i, bucket in enumerate(BUCKETS):
        value = Decimal(buckets.get(bucket, 0))
        height = float(value / top) * plot
        x = _PAD + i * slot + 6
        y = 18 + plot - height
        label = "not due" if bucket == "0" else f"{bucket} d"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 12:.1f}" height="{height:.1f}" '
            f'fill="{_COLOURS[i]}"><title>{escape(label)}: {escape(_short(value))} '
            f"{escape(currency)}</title></rect>"
            f'<text x="{x + (slot - 12) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'class="v">{escape(_short(value))}</text>'
            f'<text x="{x + (slot - 12) / 2:.1f}" y="{_H - 14}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
