"""Geometry of the progress charts, computed in Python and drawn as SVG by the templates."""

from __future__ import annotations

from collections.abc import Sequence

LABEL_WIDTH = 220
BAR_WIDTH = 360
ROW_HEIGHT = 28


def mastery_bars(rows: Sequence[tuple[str, float, bool]], *, target: float) -> dict:
    """Horizontal bars, one per (skill name, mastery, practised); a dashed line marks the target."""
    bars = []
    for i, (name, value, practised) in enumerate(rows):
        value = max(0.0, min(1.0, value))
        level = "mastered" if value >= target else "close" if value >= target * 0.75 else "low"
        bars.append({
            "y": i * ROW_HEIGHT + 6,
            "text_y": i * ROW_HEIGHT + 20,
            "width": round(BAR_WIDTH * value, 1),
            "label": name if len(name) <= 30 else name[:29] + "…",
            "name": name,
            "percent": round(100 * value),
            "value_x": LABEL_WIDTH + round(BAR_WIDTH * value, 1) + 6,
            "level": level if practised else "prior",
            "practised": practised,
        })
    height = max(1, len(rows)) * ROW_HEIGHT + 30
    return {
        "bars": bars,
        "width": LABEL_WIDTH + BAR_WIDTH + 50,
        "height": height,
        "label_width": LABEL_WIDTH,
        "bar_width": BAR_WIDTH,
        "target_x": LABEL_WIDTH + round(BAR_WIDTH * target, 1),
        "target_percent": round(100 * target),
        "axis_y": height - 14,
    }


def heat_class(value: float | None) -> str:
    """A CSS class for a heatmap cell: ten steps of mastery, or never practised."""
    if value is None:
        return "heat--none"
    return f"heat--{min(9, int(value * 10))}"
