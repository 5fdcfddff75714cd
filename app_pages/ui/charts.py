"""Pictures and charts several pages draw: enlarged digits, probability bars, side-by-side panels."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image


def to_png(image: np.ndarray, size: int = 112) -> Image.Image:
    """A float image in [0, 1] as a grayscale picture, enlarged with hard pixel edges."""
    img = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8), mode="L")
    scale = size / max(img.size)
    new = (max(int(img.width * scale), 1), max(int(img.height * scale), 1))
    return img.resize(new, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BOX)


# Passing the layout to the constructor is several times faster than update_layout, which matters per stroke.
# Every class gets its tick (plotly thins them out in a chart a quarter of a column wide: 0, 2, 4, 6, 8), and a
# margin above keeps the top tick, 100%, inside the chart.
PROB_LAYOUT = dict(height=180, margin=dict(l=0, r=0, t=8, b=0), showlegend=False,
                   yaxis=dict(range=[0, 1], tickformat=".0%"), xaxis=dict(type="category", dtick=1))


DIGITS = [str(i) for i in range(10)]
# A colour per class, ten that tell apart (Tableau 10). Streamlit's theme would colour traces in light and dark
# pairs of one hue (blue and light blue, red and pink...), and the tenth a light grey.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                 "#17becf")


def prob_chart(probs: np.ndarray, highlight: int, labels: list[str] | None = None) -> dict:
    """A bar per class (digits unless ``labels`` are given), the ``highlight``-ed one in red.

    A plain figure dict: ``st.plotly_chart`` checks it once, where a ``go.Figure`` is checked when built and
    again by Streamlit; the Draw page draws three of these a stroke for every learner (8.5 -> 4 ms each here).
    """
    colours = ["#ff4b4b" if i == highlight else "#8aa8c8" for i in range(len(probs))]
    bar = dict(type="bar", x=labels or DIGITS[: len(probs)], y=[float(p) for p in probs], marker=dict(color=colours),
               hovertemplate=("%{x}" if labels else "digit %{x}") + ": %{y:.1%}<extra></extra>")
    return {"data": [bar], "layout": PROB_LAYOUT}


def panels(traces: list[list[go.Scatter | dict]], titles: list[str], height: int, x_title: str = "epoch",
           shared_y: bool = False, **layout) -> go.Figure | dict:
    """Charts side by side in one figure, laid out by hand: several times faster to build than
    ``make_subplots``, which matters on a page that refreshes every two seconds.

    Traces given as plain dicts give the figure as a plain dict: ``st.plotly_chart`` checks it once,
    instead of once per trace and again for the figure (about 30 ms saved per stroke for 12 curves).
    """
    n, gap = len(traces), 0.08
    width = (1 - gap * (n - 1)) / n
    axes, data = {}, []
    for i, group in enumerate(traces):
        suffix = "" if i == 0 else str(i + 1)
        axes[f"xaxis{suffix}"] = dict(domain=[i * (width + gap), i * (width + gap) + width], title=x_title,
                                      anchor=f"y{suffix}")
        axes[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", **({"matches": "y"} if shared_y and i else {}))
        for trace in group:
            trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
            data.append(trace)
    notes = [dict(text=t, x=i * (width + gap) + width / 2, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                  showarrow=False) for i, t in enumerate(titles)]
    merged = dict(height=height, margin=dict(l=0, r=0, t=24, b=0), annotations=notes,
                  legend=dict(orientation="h", y=-0.3), **axes)
    for key, value in layout.items():
        merged[key] = merged.get(key, {}) | value if isinstance(value, dict) else value
    if data and all(isinstance(trace, dict) for trace in data):
        return {"data": data, "layout": merged}
    return go.Figure(data=data, layout=merged)
