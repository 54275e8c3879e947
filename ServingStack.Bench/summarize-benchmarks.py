#!/usr/bin/env python3
"""Summarizes one run of run-benchmarks.sh as Markdown: the load tool check, then per model every ServingStack series
as a ratio to the floors measured in the same run (gRPC echo, hand-written ONNX Runtime server, ONNX Runtime in
process). Standard library only. Usage: summarize-benchmarks.py RUN_FOLDER
"""
import csv
import pathlib
import re
import statistics
import sys

TOOL_LIMIT = 1.3
ECHO = "baseline: grpc echo"
ORT = "baseline: hand-written ort server"
INPROC = "onnxruntime in process"
INPROC_PAIR = "onnxruntime in process, 2 runs at once"


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(row, key):
    return float(row[key]) if row.get(key) not in (None, "") else 0.0


def fmt(value, digits=3):
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def ratio(a, b):
    if not a or not b:
        return ""
    r = a / b
    return f"{r:.0f}" if r >= 100 else f"{r:.1f}" if r >= 10 else f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def tool_check(run):
    """Medians of the minimal client's and the load tool's c=1 p50 against the echo server; returns (lines, valid)."""
    minimal_text = (run / "tool-check.minimal.txt").read_text(encoding="utf-8") if (run / "tool-check.minimal.txt").exists() else ""
    minimal = [float(m) for m in re.findall(r"p50_ms=([0-9.]+)", minimal_text)]
    tool_csv = run / "tool-check" / "results.csv"
    tool = [num(r, "p50_ms") for r in read(tool_csv)] if tool_csv.exists() else []
    lines = ["## Load tool check (c=1, Open Inference gRPC raw, against `bench serve-echo`)", ""]
    if not minimal or not tool:
        lines.append("INVALID: the check did not run (no minimal-client or load tool result).")
        return lines, False
    m, t = statistics.median(minimal), statistics.median(tool)
    lines.append(f"- minimal client p50 (ms): {', '.join(f'{v:.3f}' for v in minimal)}; median **{m:.3f}**")
    lines.append(f"- load tool p50 (ms): {', '.join(f'{v:.3f}' for v in tool)}; median **{t:.3f}**")
    valid = t <= TOOL_LIMIT * m
    verdict = "valid" if valid else "INVALID"
    lines.append(f"- load tool / minimal client = **{t / m:.2f}** (limit {TOOL_LIMIT}): {verdict}")
    lines.append("")
    if not valid:
        lines.append(f"INVALID: the load tool's p50 ({t:.3f} ms) is more than {TOOL_LIMIT}x the minimal client's ({m:.3f} ms).")
        lines.append("")
    return lines, valid


def model_table(model, rows):
    by_label = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    floor = {}
    for label in (ECHO, ORT):
        for r in by_label.get(label, []):
            floor[(label, int(num(r, "concurrency")))] = r
    inproc = by_label.get(INPROC, [])
    inproc_b1 = next((r for r in inproc if int(num(r, "batch_size")) == 1), None)
    inproc_best = max(inproc, key=lambda r: num(r, "rows_per_s"), default=None)

    lines = [f"## {model}", ""]
    if inproc:
        lines.append("In process: " + "; ".join(
            f"batch {int(num(r, 'batch_size'))}: {fmt(num(r, 'rows_per_s'))} rows/s, p50 {fmt(num(r, 'p50_ms'))} ms" for r in inproc))
        lines.append("")
    pair = by_label.get(INPROC_PAIR, [])
    if pair:
        lines.append("In process, two runs at once (1 intra-op thread each; context, not a ratio column): " + "; ".join(
            f"batch {int(num(r, 'batch_size'))}: {fmt(num(r, 'rows_per_s'))} rows/s, p50 {fmt(num(r, 'p50_ms'))} ms" for r in pair))
        lines.append("")
    lines.append("| series | c | req/s | p50 ms | p99 ms | p50 ÷ echo | p50 ÷ hand-written | req/s ÷ hand-written | p50 ÷ in-process b1 | rows/s ÷ in-process best | errors |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, series in by_label.items():
        if label in (INPROC, INPROC_PAIR):
            continue
        for r in sorted(series, key=lambda r: num(r, "concurrency")):
            c = int(num(r, "concurrency"))
            echo, ort = floor.get((ECHO, c)), floor.get((ORT, c))
            is_floor = label in (ECHO, ORT)
            lines.append("| " + " | ".join([
                label, str(c), fmt(num(r, "rps")), fmt(num(r, "p50_ms")), fmt(num(r, "p99_ms")),
                "" if is_floor or not echo else ratio(num(r, "p50_ms"), num(echo, "p50_ms")),
                "" if is_floor or not ort else ratio(num(r, "p50_ms"), num(ort, "p50_ms")),
                "" if is_floor or not ort else ratio(num(r, "rps"), num(ort, "rps")),
                "" if not inproc_b1 else ratio(num(r, "p50_ms"), num(inproc_b1, "p50_ms")),
                "" if not inproc_best else ratio(num(r, "rows_per_s"), num(inproc_best, "rows_per_s")),
                r["errors"],
            ]) + " |")
    lines.append("")
    return lines


def main():
    run = pathlib.Path(sys.argv[1])
    lines, _ = tool_check(run)
    for csv_path in sorted(run.glob("*/results.csv")):
        if csv_path.parent.name in ("tool-check", "warmup"):
            continue
        lines += model_table(csv_path.parent.name, read(csv_path))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
