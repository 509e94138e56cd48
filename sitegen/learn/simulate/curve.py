"""The clicks-per-round curve of the simulator's arms, as a small standalone SVG (no JavaScript, no library).

Both arms are drawn when both were run in the work folder with the same world settings (seed, rounds, start,
searches, intents, page budget ...); otherwise only the arm just run.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from sitegen.learn.simulate.loop import load_arms

W, H = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 40, 48
COLOURS = {"feedback": "#1565c0", "no-feedback": "#9e9e9e"}


def comparable_arms(work_dir: Path, arm: str) -> dict[str, dict]:
    """The saved arms of ``work_dir`` that share ``arm``'s world settings (``arm`` first)."""
    return comparable(load_arms(work_dir), arm)


def comparable(arms: dict[str, dict], arm: str) -> dict[str, dict]:
    """Of ``arms`` (arm -> {"settings", "rounds", ...}), ``arm`` and those with its world settings (every
    setting but ``feedback``), ``arm`` first; empty when ``arm`` is not there."""
    if arm not in arms:
        return {}
    world = dict(arms[arm].get("settings", {}))
    world.pop("feedback", None)
    out = {arm: arms[arm]}
    for name, data in arms.items():
        other = dict(data.get("settings", {}))
        other.pop("feedback", None)
        if name != arm and other == world:
            out[name] = data
    return out


def curve_svg(arms: dict[str, dict], title: str = "Clicks per round") -> str:
    """The SVG text: one polyline of clicks per round for each arm."""
    series = {name: [(r["round"], r["clicks"]) for r in data["rounds"]] for name, data in arms.items()}
    rounds = max((p[0] for s in series.values() for p in s), default=1)
    top = max((p[1] for s in series.values() for p in s), default=1) or 1
    top = _nice(top)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(r: float) -> float:
        return LEFT + (pw * (r - 1) / (rounds - 1) if rounds > 1 else pw / 2)

    def y(v: float) -> float:
        return TOP + ph - ph * v / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<title>{escape(title)}</title>',
           f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}" stroke="#333"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}" stroke="#333"/>']
    for k in range(5):
        v = top * k / 4
        out.append(f'<line x1="{LEFT - 4}" y1="{y(v):.1f}" x2="{LEFT + pw}" y2="{y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{int(v):,}</text>')
    for r in range(1, rounds + 1):
        out.append(f'<text x="{x(r):.1f}" y="{TOP + ph + 18}" text-anchor="middle">{r}</text>')
    out.append(f'<text x="{LEFT + pw / 2:.1f}" y="{H - 10}" text-anchor="middle">round (simulated week)</text>')
    for n, (name, pts) in enumerate(series.items()):
        colour = COLOURS.get(name, "#e65100")
        line = " ".join(f"{x(r):.1f},{y(v):.1f}" for r, v in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{line}"/>')
        for r, v in pts:
            out.append(f'<circle cx="{x(r):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                       f'<title>{escape(name)}, round {r}: {v:,} clicks</title></circle>')
        ly = TOP + 16 + 22 * n
        out.append(f'<line x1="{LEFT + pw + 16}" y1="{ly}" x2="{LEFT + pw + 40}" y2="{ly}" stroke="{colour}" '
                   'stroke-width="2.5"/>')
        out.append(f'<text x="{LEFT + pw + 46}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _nice(v: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``v``."""
    import math

    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def write_curve(work_dir: Path, arm: str) -> Path | None:
    """Write ``<work>/curve.svg`` for ``arm`` and the comparable other arm; returns its path (None: no data)."""
    arms = comparable_arms(work_dir, arm)
    if not arms:
        return None
    path = Path(work_dir) / "curve.svg"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(curve_svg(dict(sorted(arms.items()))), encoding="utf-8")
    tmp.replace(path)
    return path
