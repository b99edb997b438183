"""Small server-rendered SVG pictures: bar charts, a lift chart with intervals, and a map of
a few people with their ties. Pure functions of their inputs; every label is escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

W, H, PAD = 640, 220, 36
ROLE_COLOURS = {
    "employee": "#2563eb",
    "customer": "#059669",
    "supplier": "#d97706",
    "partner": "#7c3aed",
    "prospect": "#0891b2",
    "competitor_contact": "#dc2626",
    "other": "#6b7280",
}


def _svg(body: str, title: str, width: int = W, height: int = H) -> SafeString:
    return mark_safe(  # noqa: S308  # every interpolated label below is escaped
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], title: str) -> SafeString:
    """Grouped bars: `series` is (name, values, colour); one group per label."""
    n = len(labels)
    if n == 0:
        return _svg(
            f'<text x="{W / 2}" y="26" text-anchor="middle" font-size="13" fill="#6b7280">No data yet</text>',
            title,
            height=44,
        )
    # Whole-number ticks: the top is the largest value rounded up to a multiple of four.
    top = float(max(4, 4 * math.ceil(max([0.0, *(v for _, vals, _ in series for v in vals)]) / 4)))
    inner_w, inner_h = W - 2 * PAD, H - 2 * PAD
    slot = inner_w / n
    bw = max(2.0, slot * 0.8 / max(1, len(series)))
    parts = [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#9ca3af"/>']
    for tick in range(0, 5):
        v = top * tick / 4
        y = H - PAD - inner_h * tick / 4
        parts.append(
            f'<text x="{PAD - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="#6b7280">{v:.0f}</text>'
        )
    for i, label in enumerate(labels):
        x0 = PAD + slot * i + slot * 0.1
        for j, (name, vals, colour) in enumerate(series):
            v = vals[i]
            h = inner_h * v / top
            parts.append(
                f'<rect x="{x0 + j * bw:.1f}" y="{H - PAD - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)}: {escape(name)} {v:g}</title></rect>'
            )
        if n <= 16 or i % math.ceil(n / 16) == 0:
            parts.append(
                f'<text x="{x0 + slot * 0.4:.1f}" y="{H - PAD + 14}" text-anchor="middle" font-size="10" '
                f'fill="#374151">{escape(label)}</text>'
            )
    for j, (name, _, colour) in enumerate(series):
        parts.append(
            f'<rect x="{PAD + j * 140}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{PAD + j * 140 + 14}" y="15" font-size="11" fill="#374151">{escape(name)}</text>'
        )
    return _svg("".join(parts), title)


def lifts(labels: Sequence[str], values: Sequence[tuple[float, float, float]], title: str) -> SafeString:
    """Points with 95% intervals around a zero line: (lift, low, high) per label."""
    n = len(labels)
    if n == 0:
        return _svg(
            f'<text x="{W / 2}" y="26" text-anchor="middle" font-size="13" fill="#6b7280">'
            "No gathering measured yet</text>",
            title,
            height=44,
        )
    lo = min([0.0, *(v[1] for v in values)])
    hi = max([0.0, *(v[2] for v in values)])
    if hi - lo < 1e-9:
        hi, lo = hi + 1, lo - 1
    inner_h = H - 2 * PAD
    slot = (W - 2 * PAD) / n

    def y(v: float) -> float:
        return H - PAD - inner_h * (v - lo) / (hi - lo)

    parts = [
        f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{W - PAD}" y2="{y(0):.1f}" stroke="#9ca3af" stroke-dasharray="4 3"/>',
        f'<text x="{PAD - 6}" y="{y(hi) + 4:.1f}" text-anchor="end" font-size="10" fill="#6b7280">{hi:+.2f}</text>',
        f'<text x="{PAD - 6}" y="{y(lo) + 4:.1f}" text-anchor="end" font-size="10" fill="#6b7280">{lo:+.2f}</text>',
    ]
    for i, (label, (v, a, b)) in enumerate(zip(labels, values, strict=True)):
        x = PAD + slot * (i + 0.5)
        colour = "#059669" if a > 0 else ("#dc2626" if b < 0 else "#6b7280")
        parts.append(
            f'<line x1="{x:.1f}" y1="{y(a):.1f}" x2="{x:.1f}" y2="{y(b):.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="5" fill="{colour}"><title>{escape(label)}: lift {v:+.2f} '
            f"(95% interval {a:+.2f} to {b:+.2f})</title></circle>"
            f'<text x="{x:.1f}" y="{H - PAD + 14}" text-anchor="middle" font-size="10" fill="#374151">'
            f"{escape(label)}</text>"
        )
    return _svg("".join(parts), title)


def people_map(
    people: Sequence[tuple[int, str, str, bool]], ties: set[tuple[int, int]], title: str, size: int = 360
) -> SafeString:
    """People on a circle (id, name, role, connector), their existing ties as lines;
    the pairs not drawn are the new ties a gathering can create. Wide enough for labels."""
    n = len(people)
    width = size + 320
    if n == 0:
        return _svg("", title, width, size)
    cx, cy, r = width / 2, size / 2, size / 2 - 30
    pos = {}
    for i, (pid, _, _, _) in enumerate(people):
        a = 2 * math.pi * i / n - math.pi / 2
        pos[pid] = (cx + r * math.cos(a), cy + r * math.sin(a))
    parts = []
    for a, b in sorted(ties):
        if a in pos and b in pos:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#94a3b8" stroke-width="2"/>'
            )
    for pid, name, role, connector in people:
        x, y = pos[pid]
        colour = ROLE_COLOURS.get(role, "#6b7280")
        ring = ' stroke="#111827" stroke-width="3"' if connector else ' stroke="#fff" stroke-width="2"'
        anchor = "middle" if abs(x - cx) < 1 else ("start" if x > cx else "end")
        dx = 0 if anchor == "middle" else (12 if x > cx else -12)
        dy = 4 if anchor != "middle" else (-14 if y < cy else 22)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{colour}"{ring}><title>{escape(name)} '
            f"({escape(role.replace('_', ' '))}{', connector' if connector else ''})</title></circle>"
            f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}" font-size="12" fill="#111827">'
            f"{escape(name)}</text>"
        )
    return _svg("".join(parts), title, width, size)


def legend() -> list[tuple[str, str]]:
    """(label, colour) for the roles drawn on a people map."""
    return [(role.replace("_", " "), colour) for role, colour in ROLE_COLOURS.items()]
