"""The portal's usage chart, drawn on the server: images per day stacked by kind, as SVG shapes
the template writes out. No script, no library: the page is the picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26  # room for the axis labels
# One colour per kind, in the order kinds are listed; enough for every kind Darkroom has.
PALETTE = ("#2457c5", "#1f7a3f", "#b3261e", "#8a5a00", "#6a3fb5", "#0f7c8c", "#5b6670", "#c2410c")


@dataclass(frozen=True)
class Bar:
    day: date
    kind: str
    images: int
    x: float
    y: float
    width: float
    height: float
    colour: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    days: list[DayLabel]
    legend: list[tuple[str, str, int]]  # kind, colour, images over the span
    peak: int
    baseline: float


def _nice_top(peak: int) -> int:
    """The axis' top: 1, 2 or 5 times a power of ten, at or above the peak."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= peak:
                return top * step
        top *= 10


def usage_chart(dates: list[date], series: dict[str, list[int]]) -> Chart:
    """Stacked bars of `series` (kind -> images per day of `dates`)."""
    kinds = sorted(series)
    colours = {kind: PALETTE[index % len(PALETTE)] for index, kind in enumerate(kinds)}
    per_day = [sum(series[kind][index] for kind in kinds) for index in range(len(dates))]
    peak = max(per_day, default=0)
    top = _nice_top(max(peak, 1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(dates), 1)
    bar_w = max(slot * 0.8, 1)
    baseline = TOP + plot_h
    bars = []
    for index, day in enumerate(dates):
        y = baseline
        for kind in kinds:
            images = series[kind][index]
            if not images:
                continue
            height = plot_h * images / top
            y -= height
            bars.append(
                Bar(day, kind, images, LEFT + index * slot + (slot - bar_w) / 2, y, bar_w, height, colours[kind])
            )
    ticks = [Tick(baseline - plot_h * part / 4, f"{top * part // 4:,}") for part in range(5)]
    every = max(1, len(dates) // 6)
    labels = [
        DayLabel(LEFT + index * slot + slot / 2, day.strftime("%d %b"))
        for index, day in enumerate(dates)
        if (len(dates) - 1 - index) % every == 0
    ]
    legend = [(kind, colours[kind], sum(series[kind])) for kind in kinds]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, legend, peak, baseline)
