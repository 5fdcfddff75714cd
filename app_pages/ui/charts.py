"""Pictures and charts several pages draw: enlarged digits, probability bars, side-by-side panels."""

from __future__ import annotations

from html import escape

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from core.nets import inference


def to_png(image: np.ndarray, size: int = 112) -> Image.Image:
    """A float image in [0, 1] as a picture, enlarged with hard pixel edges: gray (H, W) or (H, W, 1), colour
    (H, W, 3)."""
    pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[-1] == 1 else pixels)
    scale = size / max(img.size)
    new = (max(int(img.width * scale), 1), max(int(img.height * scale), 1))
    return img.resize(new, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BOX)


DIGITS = [str(i) for i in range(10)]
# A colour per class, ten that tell apart (Tableau 10). Streamlit's theme would colour traces in light and dark
# pairs of one hue (blue and light blue, red and pink...), and the tenth a light grey.
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                 "#17becf")
TOP_COLOUR, BAR_COLOUR = "#ff4b4b", "#8aa8c8"
BARS_HEIGHT = "120px"
# Grid lines at 100% and 50% behind the bars (the plot's bottom edge is 0%).
GRID = "linear-gradient(#8884 1px, transparent 1px) 0 0 / 100% 50%"


def count_bars(counts: dict[str, int], x_label: str, y_label: str = "drawings") -> dict:
    """A bar per key of ``counts``, in their order, as a Vega-Lite spec for ``st.vega_lite_chart``.

    A plain spec, not ``st.bar_chart``: that builds and validates an Altair chart on the server (31-41 ms a chart
    here, 2.6 ms for the spec), and the class's wall draws its counts every second."""
    return {"data": {"values": [{x_label: key, y_label: n} for key, n in counts.items()]},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {"x": {"field": x_label, "type": "nominal", "sort": None, "axis": {"labelAngle": 0}},
                         "y": {"field": y_label, "type": "quantitative", "axis": {"tickMinStep": 1}}}}


def prob_bars(probs: np.ndarray, highlight: int, labels: list[str] | None = None) -> str:
    """A bar per class (digits unless ``labels`` are given), the ``highlight``-ed one in red, as HTML for
    ``st.html``; a bar's probability shows on hover.

    Plain HTML and CSS, not a plotly chart: the Draw page draws three a stroke for every learner, and plotly
    validates each figure on the server (about 3 ms a chart; bench/bench_classroom.py). Streamlit's sanitiser
    drops SVG, so the bars are boxes.
    """
    labels = [str(c) for c in (labels or DIGITS[: len(probs)])]
    bars, names = [], []
    for i, (name, p) in enumerate(zip(labels, probs)):
        colour = TOP_COLOUR if i == highlight else BAR_COLOUR
        tip = escape(f"{name}: {float(p):.1%}", quote=True)
        bars.append(f'<div title="{tip}" style="flex:1;height:{100 * max(float(p), 0.0):.1f}%;background:{colour}">'
                    "</div>")
        names.append(f'<div data-testid="vp-class" title="{tip}" style="flex:1;min-width:0;overflow:hidden;'
                     f'text-overflow:ellipsis;white-space:nowrap;text-align:center">{escape(name)}</div>')
    ticks = "".join(f'<div data-testid="vp-tick">{t}</div>' for t in ("100%", "50%", "0%"))
    # Each tick's label centred on its line: the column is a label's height taller than the bars, and as much higher.
    axis = ('<div style="display:flex;flex-direction:column;justify-content:space-between;text-align:right;'
            f'height:calc({BARS_HEIGHT} + 1.2em);margin-top:-0.6em">{ticks}</div>')
    plot = (f'<div style="flex:1;min-width:0"><div style="display:flex;align-items:flex-end;gap:3px;'
            f'height:{BARS_HEIGHT};background:{GRID};border-bottom:1px solid #8888;padding:0 1px">'
            f'{"".join(bars)}</div><div style="display:flex;gap:3px">{"".join(names)}</div></div>')
    said = escape(f"{labels[highlight]}: {float(probs[highlight]):.0%}", quote=True)
    return (f'<div data-testid="vp-bars" role="img" aria-label="{said}" '
            f'style="display:flex;gap:4px;font-size:11px;line-height:1.2;padding-top:0.6em">{axis}{plot}</div>')


def readings_row(readings: list[dict]) -> str:
    """Several networks' readings side by side, as one piece of HTML for ``st.html``: for each, a title ("ConvNet
    reads 7", the network's blurb on hover), its three likeliest classes with the time it took, and its bars.

    ``readings``: dicts of ``title``, ``blurb``, ``probs``, ``ms``. One element for all of them: a column, a title, a
    caption and a chart for each would be thirteen messages a stroke from the server for every learner.
    """
    cards = []
    for r in readings:
        first = inference.top_k(r["probs"], 3)
        top = first[0][0]
        likeliest = " · ".join(f"{c}: {p:.1%}" for c, p in first) + f" — {r['ms']:.1f} ms"
        cards.append(f'<div style="flex:1 1 140px;min-width:140px">'
                     f'<div><b title="{escape(r["blurb"])}" style="text-decoration:underline dotted">'
                     f'{escape(r["title"])}</b> reads <b>{top}</b></div>'
                     f'<div style="font-size:0.85em;opacity:0.65">{likeliest}</div>'
                     f"{prob_bars(r['probs'], top)}</div>")
    return f'<div style="display:flex;flex-wrap:wrap;gap:0.5rem 1rem">{"".join(cards)}</div>'


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
