"""Geometry for the small server-rendered SVG charts of the teacher pages (the templates draw them)."""

from __future__ import annotations

from collections.abc import Sequence


def stacked_bar(counts: Sequence[tuple[str, str, int]], *, width: float = 100.0) -> list[dict]:
    """Segments of one horizontal bar: ``(key, label, count)`` -> x, width and share per segment."""
    total = sum(n for _, _, n in counts)
    segments, x = [], 0.0
    for key, label, n in counts:
        if not n:
            continue
        w = width * n / total
        segments.append({"key": key, "label": label, "n": n, "x": round(x, 2), "w": round(w, 2),
                         "share": n / total})
        x += w
    return segments


def line_points(values: Sequence[tuple[float, float | None]], *, width: float, height: float, pad: float) -> str:
    """An SVG polyline's ``points`` for (x, y) pairs in 0..1 (y None: no point), y up."""
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    return " ".join(
        f"{pad + x * inner_w:.1f},{pad + (1 - y) * inner_h:.1f}" for x, y in values if y is not None
    )


def axis_ticks(*, width: float, height: float, pad: float, steps: int = 4) -> list[dict]:
    """Gridlines and labels at 0, 25, 50, 75, 100 % for a 0..1 chart."""
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    return [
        {"value": k / steps, "label": f"{100 * k // steps}%", "x": pad + inner_w * k / steps,
         "y": pad + inner_h * (1 - k / steps)}
        for k in range(steps + 1)
    ]


def columns(values: Sequence[float], *, width: float, height: float, pad: float, gap: float = 4.0) -> list[dict]:
    """Vertical bars for values in 0..1."""
    if not values:
        return []
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    w = inner_w / len(values)
    return [
        {"x": round(pad + i * w + gap / 2, 1), "w": round(max(w - gap, 1.0), 1),
         "y": round(pad + inner_h * (1 - v), 1), "h": round(inner_h * v, 1), "value": v}
        for i, v in enumerate(values)
    ]
