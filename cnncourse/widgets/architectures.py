"""Architecture explorer: compare classic CNNs by parameters, multiply-adds, FLOPs, depth
or published accuracy, as bars or plotted against their ImageNet top-1 accuracy.

It draws from a table computed once (``cnncourse.keras.costs.architecture_costs()``), so
a click redraws a chart and never rebuilds a model. This module does not import Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ipywidgets as w
import numpy as np

from .base import FigureExplorer

#: metric key -> axis label
METRICS = {
    "params": "parameters",
    "macs": "multiply-adds (MACs) per image",
    "flops": "FLOPs per image (2 × MACs)",
    "depth": "depth (weight layers on the longest path)",
    "top1": "published ImageNet top-1 accuracy (%)",
}
_BUTTONS = [
    ("parameters", "params"),
    ("MACs", "macs"),
    ("FLOPs", "flops"),
    ("depth", "depth"),
    ("top-1 %", "top1"),
]


def format_count(n: float) -> str:
    """A count to take in at a glance: 950 -> '950', 61706 -> '61.7k', 62378344 -> '62.4M',
    15470264320 -> '15.5G'."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:g}"


def _rows(table) -> list[dict]:
    if isinstance(table, Mapping | str) or not isinstance(table, Sequence) or not table:
        raise TypeError(
            "table must be a non-empty list of rows (ArchitectureCost objects or "
            f"dicts with name, params, macs, depth, optional top1); got {table!r:.80}"
        )
    rows = []
    for row in table:
        get = row.get if isinstance(row, Mapping) else lambda key, r=row: getattr(r, key, None)
        missing = [k for k in ("name", "params", "macs", "depth") if get(k) is None]
        if missing:
            raise ValueError(f"a table row lacks {missing}; got {row!r:.120}")
        bad = [
            k
            for k in ("params", "macs", "depth", "top1")
            if get(k) is not None and not (_is_number(get(k)) and get(k) >= 0)
        ]
        if bad:
            raise ValueError(f"{bad} must be non-negative numbers; got {row!r:.120}")
        macs = get("macs")
        rows.append(
            {
                "name": str(get("name")),
                "params": get("params"),
                "macs": macs,
                "flops": get("flops") if get("flops") is not None else 2 * macs,
                "depth": get("depth"),
                "top1": get("top1"),
            }
        )
    names = [r["name"] for r in rows]
    if len(set(names)) != len(names):
        raise ValueError(f"architecture names must be unique; got {names}")
    return rows


class ArchitectureExplorer(FigureExplorer):
    """After any change: ``labels`` (the chosen architectures that have a value for the
    metric, in table order) and ``values`` (that metric for each).

    Controls: ``names`` (which rows), ``metric`` (``"params"``, ``"macs"``, ``"flops"``,
    ``"depth"``, ``"top1"``), ``log_scale`` (logarithmic value axis), ``view`` (``"bars"`` or
    ``"accuracy"``: the metric on x against top-1 accuracy on y).
    """

    figsize = (9.0, 3.6)

    def __init__(
        self,
        table,
        metric: str = "params",
        log_scale: bool = True,
        names: Sequence[str] | None = None,
        view: str = "bars",
    ):
        self.rows = _rows(table)
        options = [r["name"] for r in self.rows]
        names = options if names is None else list(names)
        unknown = [n for n in names if n not in options]
        if unknown:
            raise ValueError(f"names {unknown} are not in the table; expected some of {options}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {list(METRICS)}; got {metric!r}")
        if view not in ("bars", "accuracy"):
            raise ValueError(f"view must be 'bars' or 'accuracy'; got {view!r}")
        self.names = w.SelectMultiple(
            options=options, value=tuple(names), rows=len(options), description="networks"
        )
        self.metric = w.ToggleButtons(
            options=_BUTTONS,
            value=metric,
            description="metric",
            style={"button_width": "auto"},
            layout=w.Layout(width="auto"),
        )
        self.view = w.ToggleButtons(
            options=[("bars", "bars"), ("against top-1", "accuracy")],
            value=view,
            description="view",
            style={"button_width": "auto"},
            layout=w.Layout(width="auto"),
        )
        self.log_scale = w.Checkbox(value=log_scale, description="log scale")
        super().__init__([w.HBox([self.names, w.VBox([self.metric, self.view, self.log_scale])])])
        self.watch(self.names, self.metric, self.view, self.log_scale)
        self.update()

    def compute(self) -> None:
        key = self.metric.value
        chosen = [r for r in self.rows if r["name"] in self.names.value]
        if not chosen:
            raise ValueError("pick at least one network (Ctrl- or Shift-click to pick several)")
        if self.view.value == "accuracy":
            if key == "top1":
                raise ValueError(
                    "against top-1: pick a cost metric (parameters, MACs, FLOPs or depth) for the x axis"
                )
            chosen = [r for r in chosen if r["top1"] is not None]
        kept = [r for r in chosen if r[key] is not None]
        if not kept:
            raise ValueError(f"none of the chosen networks has a value for {METRICS[key]}")
        self.skipped = [r["name"] for r in self.rows if r["name"] in self.names.value and r not in kept]
        self.labels = [r["name"] for r in kept]
        self.values = [r[key] for r in kept]
        self.top1 = [r["top1"] for r in kept]

    def draw(self, fig) -> None:
        ax = fig.subplots()
        key = self.metric.value
        if self.view.value == "accuracy":
            ax.scatter(self.values, self.top1, s=40, color="#2a7ab9", zorder=3)
            for i, (x, y, name) in enumerate(zip(self.values, self.top1, self.labels, strict=True)):
                offset = (6, 5) if i % 2 == 0 else (6, -12)  # alternate, so neighbours don't collide
                ax.annotate(name, (x, y), textcoords="offset points", xytext=offset, fontsize=9)
            ax.set_xlabel(METRICS[key])
            ax.set_ylabel("ImageNet top-1 (%)")
            if self.log_scale.value:
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
            ax.margins(x=0.15, y=0.15)
            fig.tight_layout()
            return
        positions = range(len(self.labels))
        ax.barh(positions, self.values, color="#2a7ab9")
        ax.set_yticks(list(positions), self.labels)
        ax.invert_yaxis()  # first row of the table on top
        if self.log_scale.value:
            ax.set_xscale("log")
        for y, v in zip(positions, self.values, strict=True):
            text = f"{v:.1f}" if key == "top1" else format_count(v)
            ax.text(v, y, f" {text}", va="center", fontsize=9)
        ax.set_xlabel(METRICS[key] + (" (log scale)" if self.log_scale.value else ""))
        right = max(self.values) * (8 if self.log_scale.value else 1.18)
        ax.set_xlim(right=right)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()

    def alt_text(self) -> str:
        what = METRICS[self.metric.value] + (", log scale" if self.log_scale.value else "")
        chart = (
            f"Scatter plot of ImageNet top-1 accuracy against {what}"
            if self.view.value == "accuracy"
            else f"Bar chart of {what}"
        )
        return f"{chart}, for {len(self.labels)} architectures. {super().alt_text()}"

    def describe(self) -> str:
        key, values, labels = self.metric.value, self.values, self.labels
        hi, lo = values.index(max(values)), values.index(min(values))
        show = (lambda v: f"{v:.1f} %") if key == "top1" else format_count
        text = (
            f"Most: <b>{labels[hi]}</b> ({show(values[hi])}); least: <b>{labels[lo]}</b> ({show(values[lo])})"
        )
        if key != "top1" and values[lo] > 0:
            text += f", a factor of {values[hi] / values[lo]:,.0f} apart"
        if self.skipped:
            text += f". Not shown (no published ImageNet accuracy): {', '.join(self.skipped)}"
        return text + "."


def _is_number(value) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
