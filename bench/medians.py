"""The tables of bench/flood and bench/garbage: a row per figure, a column per implementation, each cell the median
over rounds and its range, min–max, from the rounds that had the figure at all."""
import statistics


def cell(values, fmt, missing):
    """values: one per round, None where the round had none; fmt: a str.format pattern; missing: what a round
    without the figure lacked ("reply"), said after the cell."""
    known = [v for v in values if v is not None]
    if not known:
        return "–"
    text = fmt.format(statistics.median(known)) + " (" + fmt.format(min(known)) + "–" + fmt.format(max(known)) + ")"
    return text + ("" if len(known) == len(values) else f" [{len(values) - len(known)} without {missing}]")


def table(results, impls, rows, missing="a value"):
    """results: implementation -> list of per-round dicts; rows: (label, key, fmt). Markdown lines."""
    lines = ["| figure | " + " | ".join(impls) + " |", "| --- |" + " --- |" * len(impls)]
    for label, key, fmt in rows:
        cells = [cell([r.get(key) for r in results[impl]], fmt, missing) for impl in impls]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines
