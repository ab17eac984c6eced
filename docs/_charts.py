"""Draw the benchmark charts of the docs from ``bash scripts/bench --json`` reports.

Each ``_data/bench-*.json`` is one run's report, committed as ``bash scripts/bench --json``
(or ``tightbind bench --json``) printed it (its ``machine`` block says the command, the
date and the machine).  For every report, one horizontal bar chart per area of the
summary's ratios (tightbind's speed over the other path's; 1.0 is parity) is written to
``_generated/`` when the build starts, and ``benchmarks.md`` includes them.  Charts are
never committed: they are redrawn from the data on every build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
OUT = HERE / "_generated"


def reports() -> list[tuple[str, dict[str, Any]]]:
    """Every committed report, by file stem, oldest first by name."""
    return [(path.stem, json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(DATA.glob("bench-*.json"))]


def ratio_rows(report: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """The summary's (label, ratio) rows by area; rows whose ratio is a share are left out."""
    by_area: dict[str, list[tuple[str, float]]] = {}
    for area, measure, _figure, other, ratio in report["summary"]["rows"]:
        text = str(ratio)
        if not text.endswith("x"):
            continue
        label = measure if str(other) in measure else f"{measure}\nvs {other}"
        by_area.setdefault(area, []).append((label, float(text[:-1].replace(",", ""))))
    return by_area


def draw(stem: str, report: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for area, rows in ratio_rows(report).items():
        labels = [label for label, _ in rows][::-1]
        values = [value for _, value in rows][::-1]
        height = 0.9 + 0.42 * len(rows) + 0.1 * sum(label.count("\n") for label in labels)
        fig, ax = plt.subplots(figsize=(9.5, height))
        colours = ["#3a7d44" if value >= 1 else "#b5523b" for value in values]
        ax.barh(range(len(values)), values, color=colours)
        ax.set_yticks(range(len(values)), labels, fontsize=7)
        ax.axvline(1.0, color="black", linewidth=0.8)
        if max(values) / max(min(values), 1e-9) > 30:
            ax.set_xscale("log")
        for y, value in enumerate(values):
            ax.annotate(f"{value:g}x", (value, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
        ax.set_xlabel("tightbind's speed over the other path (1 = parity)")
        machine = report["machine"]
        load = machine.get("load_average")
        ax.set_title(f"{area}: {machine.get('date', '')} {machine['cpu']}, "
                     f"{machine['cores']} cores"
                     + (f", load average {load[0]:g} at the start" if load else ""), fontsize=9)
        fig.tight_layout()
        path = OUT / f"{stem}-{area}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def build_charts(app: Any = None) -> list[Path]:
    """Draw every report's charts and write ``_generated/charts.md``, which shows them
    with each run's command, date, machine and versions."""
    OUT.mkdir(exist_ok=True)
    written: list[Path] = []
    text = []
    for stem, report in reports():
        machine = report["machine"]
        versions = ", ".join(f"{k} {v}" for k, v in report.get("versions", {}).items())
        text += [f"### `{machine['command']}`, {machine.get('date', 'undated')}", "",
                 f"{machine['cpu']} ({machine['cores']} cores), {machine['system']}, "
                 f"{machine['python']}; load average at the start "
                 f"{', '.join(map(str, machine.get('load_average', ['not recorded'])))}; "
                 f"{versions}. Data: `docs/_data/{stem}.json`.", ""]
        for path in draw(stem, report):
            written.append(path)
            text += [f"![{path.stem}]({path.name})", ""]
    (OUT / "charts.md").write_text("\n".join(text) or "No report yet.\n", encoding="utf-8")
    return written


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", build_charts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
