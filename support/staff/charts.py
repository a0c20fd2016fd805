"""Server-rendered SVG charts for the reports page: no JavaScript, readable by screen readers.

Each chart is one ``<svg role="img">`` labelled by its ``<title>`` and a ``<desc>`` that states
every value in words, so the numbers are not locked inside the drawing. Every bar and point
also carries its own ``<title>`` (a hover tooltip). Labels come from users (department names,
categories) and are always escaped. Colours are the Okabe-Ito palette, which stays
distinguishable with common colour-vision deficiencies; lines also differ by dash pattern.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

logger = logging.getLogger(__name__)

Number = float | int | None

WIDTH = 640
PLOT_HEIGHT = 220
FONT_SIZE = 12
TITLE_SIZE = 15
LINE_HEIGHT = 14
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4", "4 2 1 2")
_GRID = "#d0d0d0"
_AXIS = "#707070"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    *,
    unit: str = "",
    empty_text: str = "No data",
    scale_max: float | None = None,
    value_text: Callable[[float], str] | None = None,
) -> Markup:
    """One bar per label, value printed on the bar. ``None`` values draw no bar.

    ``scale_max``: the top of a bounded scale (5 of a 1-5 rating, 100 %), so the axis reaches
    it and an average of 2 does not fill the chart as if it were the best. ``value_text``:
    how a bar's value is written on it and read out ("1 h 30 min" for 1.5 hours), instead of
    the number and ``unit``."""

    def written(value: float) -> str:
        return value_text(value) if value_text is not None else _with_unit(value, unit)

    _check_lengths(labels, {title: values})
    cleaned = _clean(values)
    if not labels or all(value is None for value in cleaned):
        return _empty_chart(title, empty_text)
    desc = "; ".join(
        f"{label}: {written(value)}"
        for label, value in zip(labels, cleaned, strict=True)
        if value is not None
    )
    frame = _Frame.build(title, labels, cleaned, legend=(), unit=unit, scale_max=scale_max)
    parts = frame.axes()
    bar_width = min(frame.slot * 0.7, 64)
    zero_y = frame.y(0)
    for index, (label, value) in enumerate(zip(labels, cleaned, strict=True)):
        if value is None:
            continue
        x = frame.center(index) - bar_width / 2
        top = min(frame.y(value), zero_y)
        height = abs(frame.y(value) - zero_y)
        text = written(value)
        parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_width:.1f}" height="{height:.1f}" '
            f'fill="{PALETTE[0]}"><title>{_esc(label)}: {_esc(text)}</title></rect>'
        )
        if _text_width(text, FONT_SIZE - 1) <= frame.slot:
            text_y = top - 4 if value >= 0 else top + height + FONT_SIZE
            parts.append(
                f'<text x="{frame.center(index):.1f}" y="{text_y:.1f}" text-anchor="middle" '
                f'font-size="{FONT_SIZE - 1}">{_esc(text)}</text>'
            )
    return _svg("bar", title, desc, frame.height, parts, (labels, cleaned, unit))


def stacked_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    unit: str = "",
    empty_text: str = "No data",
    total_text: str = "total",
) -> Markup:
    """Bars split into one segment per series (e.g. tickets per day by status), total on top.

    ``total_text``: the word before each bar's total in the description screen readers read,
    in the page's language."""
    _check_lengths(labels, series)
    cleaned = {name: _clean(values) for name, values in series.items()}
    if any(value is not None and value < 0 for values in cleaned.values() for value in values):
        raise ValueError("stacked bar values must not be negative")
    totals: list[Number] = []
    for index in range(len(labels)):
        present = [value for value in (v[index] for v in cleaned.values()) if value is not None]
        totals.append(sum(present) if present else None)
    if not labels or not cleaned or all(total is None for total in totals):
        return _empty_chart(title, empty_text)
    desc = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{name} {_with_unit(values[index], unit)}"
            for name, values in cleaned.items()
            if values[index] is not None
        )
        + f" ({total_text} {_with_unit(totals[index], unit)})"
        for index, label in enumerate(labels)
        if totals[index] is not None
    )
    frame = _Frame.build(title, labels, totals, legend=tuple(cleaned), unit=unit)
    parts = frame.axes() + frame.legend_items(line=False)
    bar_width = min(frame.slot * 0.7, 64)
    for index, label in enumerate(labels):
        if totals[index] is None:
            continue
        x = frame.center(index) - bar_width / 2
        base = 0.0
        for number, (name, values) in enumerate(cleaned.items()):
            value = values[index]
            if not value:
                continue
            top, bottom = frame.y(base + value), frame.y(base)
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_width:.1f}" '
                f'height="{bottom - top:.1f}" fill="{_colour(number)}" stroke="#ffffff" '
                f'stroke-width="0.5"><title>{_esc(label)}, {_esc(name)}: '
                f"{_esc(_with_unit(value, unit))}</title></rect>"
            )
            base += value
        text = _with_unit(totals[index], unit)
        if _text_width(text, FONT_SIZE - 1) <= frame.slot:
            parts.append(
                f'<text x="{frame.center(index):.1f}" y="{frame.y(base) - 4:.1f}" '
                f'text-anchor="middle" font-size="{FONT_SIZE - 1}">{_esc(text)}</text>'
            )
    return _svg("stacked", title, desc, frame.height, parts, (labels, cleaned, unit))


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    unit: str = "",
    empty_text: str = "No data",
) -> Markup:
    """One line per series over the x labels (e.g. weeks); ``None`` leaves a gap."""
    _check_lengths(x_labels, series)
    cleaned = {name: _clean(values) for name, values in series.items()}
    every_value = [value for values in cleaned.values() for value in values]
    if not x_labels or all(value is None for value in every_value):
        return _empty_chart(title, empty_text)
    desc = "; ".join(
        f"{name}: "
        + ", ".join(
            f"{label} {_with_unit(value, unit)}"
            for label, value in zip(x_labels, values, strict=True)
            if value is not None
        )
        for name, values in cleaned.items()
        if any(value is not None for value in values)
    )
    frame = _Frame.build(title, x_labels, every_value, legend=tuple(cleaned), unit=unit)
    parts = frame.axes() + frame.legend_items(line=True)
    for number, (name, values) in enumerate(cleaned.items()):
        colour, dash = _colour(number), DASHES[number % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        run: list[str] = []
        for index, value in enumerate([*values, None]):
            if value is not None:
                run.append(f"{frame.center(index):.1f},{frame.y(value):.1f}")
            elif run:
                if len(run) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"{dash_attr}/>'
                    )
                run = []
        for index, value in enumerate(values):
            if value is None:
                continue
            parts.append(
                f'<circle cx="{frame.center(index):.1f}" cy="{frame.y(value):.1f}" r="3.5" '
                f'fill="{colour}"><title>{_esc(name)}, {_esc(x_labels[index])}: '
                f"{_esc(_with_unit(value, unit))}</title></circle>"
            )
    return _svg("line", title, desc, frame.height, parts, (x_labels, cleaned, unit))


# --- layout -----------------------------------------------------------------------------------


@dataclass
class _Frame:
    """Plot geometry shared by the three charts: title, legend rows, axes, slots per label."""

    labels: Sequence[str]
    ticks: list[float]
    legend: tuple[str, ...]
    legend_rows: list[list[tuple[float, str]]]
    left: float
    top: float
    slot: float
    unit: str
    #: Labels too wide for their slot but made of words go on two lines rather than being
    #: thinned: thinning hid "Finance" under the only bar of a five-department chart.
    wrap: bool = False

    @classmethod
    def build(
        cls,
        title: str,
        labels: Sequence[str],
        values: Sequence[Number],
        *,
        legend: tuple[str, ...],
        unit: str,
        scale_max: float | None = None,
    ) -> _Frame:
        present = [value for value in values if value is not None]
        whole = all(float(value).is_integer() for value in present)  # counts: no 2.5 tickets
        top_value = max(0.0, *present, scale_max or 0.0)
        ticks = _nice_ticks(min(0.0, *present), top_value, whole=whole)
        left = max(_text_width(_format_number(tick), FONT_SIZE) for tick in ticks) + 14
        legend_rows = _legend_rows(legend)
        top = 40 + len(legend_rows) * 20 + (12 if legend_rows else 0) + (14 if unit else 0)
        slot = (WIDTH - 16 - left) / len(labels)
        too_wide = [label for label in labels if _text_width(label, FONT_SIZE) + 8 > slot]
        wrap = bool(too_wide) and all(
            max(_text_width(line, FONT_SIZE) for line in _two_lines(label)) + 8 <= slot
            for label in too_wide
        )
        return cls(labels, ticks, legend, legend_rows, left, top, slot, unit, wrap)

    @property
    def bottom(self) -> float:
        return self.top + PLOT_HEIGHT

    @property
    def height(self) -> int:
        return int(self.bottom + 36 + (LINE_HEIGHT if self.wrap else 0))

    def center(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return self.bottom - (value - low) / (high - low) * PLOT_HEIGHT

    def axes(self) -> list[str]:
        right = WIDTH - 16
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            stroke = _AXIS if tick == 0 else _GRID
            parts.append(
                f'<line x1="{self.left:.1f}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                f'stroke="{stroke}" stroke-width="1"/>'
                f'<text x="{self.left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">'
                f"{_esc(_format_number(tick))}</text>"
            )
        parts.append(
            f'<line x1="{self.left:.1f}" y1="{self.top:.1f}" x2="{self.left:.1f}" '
            f'y2="{self.bottom:.1f}" stroke="{_AXIS}" stroke-width="1"/>'
        )
        if self.unit:
            # Over the tick labels, ending where they end; from the picture's edge when wider
            # than they are ("分钟" over "5" began left of the picture, half a character shown).
            x, anchor = self.left - 6, "end"
            if _text_width(self.unit, FONT_SIZE - 1) > x - 2:
                x, anchor = 2, "start"
            parts.append(
                f'<text x="{x:.1f}" y="{self.top - 8:.1f}" text-anchor="{anchor}" '
                f'font-size="{FONT_SIZE - 1}">{_esc(self.unit)}</text>'
            )
        # Show every n-th label when slots are too narrow; each shown label may use n slots.
        widest = max(_text_width(label, FONT_SIZE) for label in self.labels)
        step = 1 if self.wrap else max(1, math.ceil((min(widest, 120) + 8) / self.slot))
        for index in range(0, len(self.labels), step):
            label = self.labels[index]
            if self.wrap and _text_width(label, FONT_SIZE) + 8 > self.slot:
                lines = _two_lines(label)
            else:
                lines = (_fit(label, self.slot * step - 4, FONT_SIZE),)
            x, anchor = self.center(index), "middle"
            half = max(_text_width(line, FONT_SIZE) for line in lines) / 2
            if x + half > WIDTH - 2:  # keep the outermost labels inside the picture
                x, anchor = WIDTH - 2, "end"
            elif x - half < 2:
                x, anchor = 2, "start"
            if len(lines) == 1:
                body = _esc(lines[0])
            else:
                body = "".join(
                    f'<tspan x="{x:.1f}" dy="{LINE_HEIGHT if number else 0}">{_esc(line)}</tspan>'
                    for number, line in enumerate(lines)
                )
            parts.append(
                f'<text x="{x:.1f}" y="{self.bottom + 18:.1f}" text-anchor="{anchor}">{body}'
                + (f"<title>{_esc(label)}</title>" if " ".join(lines) != label else "")
                + "</text>"
            )
        return parts

    def legend_items(self, *, line: bool) -> list[str]:
        parts = ['<g class="legend">']
        number = 0
        for row, items in enumerate(self.legend_rows):
            y = 44 + row * 20
            for x, name in items:
                colour = _colour(number)
                if line:
                    dash = DASHES[number % len(DASHES)]
                    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                    parts.append(
                        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 18:.1f}" y2="{y:.1f}" '
                        f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
                    )
                else:
                    parts.append(
                        f'<rect x="{x + 4:.1f}" y="{y - 5:.1f}" width="10" height="10" '
                        f'fill="{colour}"/>'
                    )
                parts.append(f'<text x="{x + 24:.1f}" y="{y + 4:.1f}">{_esc(name)}</text>')
                number += 1
        parts.append("</g>")
        return parts


def _legend_rows(names: tuple[str, ...]) -> list[list[tuple[float, str]]]:
    rows: list[list[tuple[float, str]]] = []
    x = 16.0
    for name in names:
        width = 24 + _text_width(name, FONT_SIZE) + 16
        if not rows or x + width > WIDTH - 16:
            rows.append([])
            x = 16.0
        rows[-1].append((x, name))
        x += width
    return rows


def _nice_ticks(low: float, high: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering ``low``..``high``;
    ``whole``: whole numbers only (1, 2 or 5 times a power of ten, at least 1), for data
    that is whole numbers (a count of 12 tickets had ticks 2.5 ... 12.5; one ticket, 0.2)."""
    if high == low:
        high = low + 1
    raw_step = (high - low) / count
    if whole:
        raw_step = max(raw_step, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw_step)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(n * step, 10) for n in range(first, last + 1)]


# --- text -------------------------------------------------------------------------------------


def _clean(values: Sequence[Number]) -> list[float | None]:
    """Missing, NaN and infinite values become ``None`` (drawn as a gap, not a crash)."""
    cleaned: list[float | None] = []
    for value in values:
        if value is None or isinstance(value, bool):
            cleaned.append(None)
            continue
        number = float(value)
        cleaned.append(number if math.isfinite(number) else None)
    return cleaned


def _check_lengths(labels: Sequence[str], series: Mapping[str, Sequence[Number]]) -> None:
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")


def _format_number(value: float | None) -> str:
    """Two decimals, or two significant digits below 0.1: a median first response of 72 s is
    0.02 h, and its axis's ticks 0.004 ... 0.016 read 0.01, 0.01, 0.01 at two decimals."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 0.1:
        return f"{float(f'{value:.2g}'):.10f}".rstrip("0").rstrip(".")
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _with_unit(value: float | None, unit: str) -> str:
    text = _format_number(value)
    return f"{text} {unit}" if unit and text else text


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: wide (CJK) characters take a full em, others about half."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.58 for c in text) * size


def _two_lines(label: str) -> tuple[str, ...]:
    """The label split at the space that makes its wider half narrowest (itself if no space)."""
    splits = [
        (label[:at].rstrip(), label[at + 1 :].lstrip())
        for at, char in enumerate(label)
        if char == " " and label[:at].strip() and label[at + 1 :].strip()
    ]
    if not splits:
        return (label,)
    return min(splits, key=lambda pair: max(_text_width(half, FONT_SIZE) for half in pair))


def _fit(text: str, width: float, size: float) -> str:
    if _text_width(text, size) <= width:
        return text
    kept = text
    while kept and _text_width(kept + "…", size) > width:
        kept = kept[:-1]
    return kept + "…" if kept else ""


def _esc(text: object) -> str:
    return str(escape(_INVALID_XML.sub("", str(text))))


def _colour(number: int) -> str:
    return PALETTE[number % len(PALETTE)]


# --- document ---------------------------------------------------------------------------------


def _chart_id(kind: str, title: str, data: object) -> str:
    """Stable per content, so two charts on one page get different ids without a counter."""
    digest = hashlib.sha1(f"{kind}\0{title}\0{data!r}".encode(), usedforsecurity=False)
    return f"chart-{digest.hexdigest()[:10]}"


def _svg(kind: str, title: str, desc: str, height: int, parts: list[str], data: object) -> Markup:
    chart_id = _chart_id(kind, title, data)
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', sans-serif\" "
        f'font-size="{FONT_SIZE}" fill="currentColor">'
        f'<title id="{chart_id}-title">{_esc(title)}</title>'
        f'<desc id="{chart_id}-desc">{_esc(desc)}</desc>'
        f'<text x="16" y="24" font-size="{TITLE_SIZE}" font-weight="bold" aria-hidden="true">'
        f"{_esc(title)}</text>"
        f'<g aria-hidden="true">{body}</g>'
        "</svg>"
    )


def _empty_chart(title: str, empty_text: str) -> Markup:
    """A chart-shaped placeholder, so an empty report period still lays out like the others."""
    parts = [
        f'<rect x="16" y="40" width="{WIDTH - 32}" height="100" fill="none" stroke="{_GRID}" '
        'stroke-dasharray="4 4"/>',
        f'<text x="{WIDTH / 2:.0f}" y="95" text-anchor="middle" font-size="{TITLE_SIZE - 1}">'
        f"{_esc(empty_text)}</text>",
    ]
    return _svg("empty", title, empty_text, 160, parts, ())
