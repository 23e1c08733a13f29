"""Server-rendered SVG line charts for the grader registry: geometry only, the template draws it.

``line_chart`` turns labelled series into coordinates (a path per series, a dot per value,
grid lines and ticks) inside a fixed viewBox; the SVG scales with the page.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 16, 56
PALETTE = ("primary", "ok", "warn", "info", "err")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per x label; None = no value there


def line_chart(*, x_labels: list[str], series: list[Series], y_min: float = 0.0, y_max: float = 1.0,
               y_step: float = 0.2, x_title: str = "", y_title: str = "") -> dict:
    """Coordinates for ``_line_chart.html``. Values outside [y_min, y_max] widen the range."""
    values = [v for s in series for v in s.values if v is not None]
    if values:
        y_min = min(y_min, _floor(min(values), y_step))
        y_max = max(y_max, _ceil(max(values), y_step))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    count = max(len(x_labels), 1)

    def x_at(index: int) -> float:
        return round(PAD_LEFT + (plot_w * (index + 0.5) / count), 1)

    def y_at(value: float) -> float:
        return round(PAD_TOP + plot_h * (1 - (value - y_min) / ((y_max - y_min) or 1)), 1)

    ticks = []
    steps = int(round((y_max - y_min) / y_step))
    for k in range(steps + 1):
        value = y_min + k * y_step
        ticks.append({"y": y_at(value), "label": f"{value:.1f}"})
    drawn = []
    for n, s in enumerate(series):
        points = [
            {"x": x_at(i), "y": y_at(v), "value": f"{v:.3f}", "label": x_labels[i]}
            for i, v in enumerate(s.values) if v is not None
        ]
        path = " ".join(f"{'M' if k == 0 else 'L'}{p['x']},{p['y']}" for k, p in enumerate(points))
        drawn.append({"name": s.name, "color": PALETTE[n % len(PALETTE)], "points": points, "path": path})
    return {
        "width": WIDTH, "height": HEIGHT,
        "left": PAD_LEFT, "right": WIDTH - PAD_RIGHT, "top": PAD_TOP, "bottom": HEIGHT - PAD_BOTTOM,
        "y_ticks": ticks,
        "x_ticks": [{"x": x_at(i), "label": label} for i, label in enumerate(x_labels)],
        "series": drawn,
        "x_title": x_title, "y_title": y_title,
        "empty": not values,
    }


def _floor(value: float, step: float) -> float:
    return step * (value // step)


def _ceil(value: float, step: float) -> float:
    return -step * ((-value) // step)
