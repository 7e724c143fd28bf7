"""OCR + invoice extraction on a generated, varied invoice set: field accuracy and latency.

    .venv/bin/python bench/ocr.py [--per-cell 2]

Generates invoices in 4 layouts (zh fully-digital VAT, zh VAT with code, English invoice, receipt) and
6 renderings (clean, JPEG 35–50, 2–4° rotation, blur, 55% downscale, phone-screenshot framing), reads
each with the real OCR engine, and prints per-field exact-match accuracy for clean and degraded images
and the p50/p95 time of OCR + extraction per screenshot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.perception.invoice import extract  # noqa: E402
from app.perception.ocr import read_image  # noqa: E402
from tests.support.invoices import DEGRADATIONS, LAYOUTS, generate  # noqa: E402

FIELDS = ("total", "number", "date", "currency", "tax", "buyer", "buyer_tax_id", "seller", "seller_tax_id", "code")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-cell", type=int, default=2, help="invoices per layout × rendering")
    args = parser.parse_args()

    read_image(generate(0, "receipt").image)  # warm the engine: the first call loads the models
    hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    times: list[float] = []
    misses: list[str] = []
    seed = 1000
    for layout in LAYOUTS:
        for how in DEGRADATIONS:
            for _ in range(args.per_cell):
                seed += 1
                made = generate(seed, layout, how)
                started = time.perf_counter()
                got = extract(read_image(made.image))
                times.append(time.perf_counter() - started)
                group = "clean" if how == "clean" else "degraded"
                for field in FIELDS:
                    if made.truth[field] is None and field not in ("total", "number"):
                        continue  # the layout has no such field
                    ok = got[field] == made.truth[field]
                    hits[(group, field)].append(ok)
                    if not ok and field in ("total", "number"):
                        misses.append(f"{layout}/{how} seed {seed}: {field} {got[field]!r} ≠ {made.truth[field]!r}")
                print(f"  {layout:<11} {how:<9} {times[-1]:5.2f}s", file=sys.stderr)

    print(
        f"\nInvoice OCR + extraction, {len(times)} generated screenshots "
        f"({len(LAYOUTS)} layouts × {len(DEGRADATIONS)} renderings × {args.per_cell})"
    )
    print(f"{'field':<14}{'clean':>10}{'degraded':>10}")
    for field in FIELDS:
        row = []
        for group in ("clean", "degraded"):
            values = hits.get((group, field), [])
            row.append(f"{100 * sum(values) / len(values):.1f}%" if values else "-")
        print(f"{field:<14}{row[0]:>10}{row[1]:>10}")
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"\nlatency per screenshot: p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s")
    for miss in misses:
        print("  miss:", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
