"""Shop sync: orders per second through the batch API, and how fresh the next answer is.

    .venv/bin/python bench/sync.py [--orders 5000] [--batch 1000] [--customers 500] [--freshness 30]
                                   [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Starts `shopdesk seed` (the demo shop) and `shopdesk serve` on a fresh PostgreSQL database, creates a shop
API key with `shopdesk key create`, then:

1. **Throughput.** Creates the customers (`POST /api/v1/shop/customers:batch`), then sends the orders in
   batches (`POST /api/v1/shop/orders:batch`): new orders, then the same orders again with a newer
   `updated_at` and another status (updates), then the first version again (stale: ignored). Orders per
   second for each pass, from the client's side, one batch at a time.
2. **Freshness.** For each round, `PUT /api/v1/shop/orders/{id}` changes a demo order's status, and the very
   next customer turn asks where that order is. Printed: the share of turns that answered with the new
   status (target: all of them), and the time from the update's response to the reply.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import Server, sign  # noqa: E402

DEMO = ROOT / "app" / "demo"
STATUSES = ("paid", "shipped", "delivered")
# What the English reply says for each status (app/llm/prompts/composer/en.j2).
SAID = {"paid": "is paid", "shipped": "has shipped", "delivered": "has been delivered"}


def _order(i: int, customers: int, status: str, updated: datetime) -> dict:
    return {
        "id": f"SYNC-{i:06d}",
        "customer_ref": f"sync-c{i % customers:05d}",
        "status": status,
        "carrier": "UPS" if status != "paid" else None,
        "tracking_no": f"1Z{i:016d}" if status != "paid" else None,
        "total": f"{10 + i % 500}.{i % 100:02d}",
        "currency": "USD",
        "placed_at": "2026-11-01T10:00:00Z",
        "updated_at": updated.isoformat(),
        "status_history": [{"status": status, "at": updated.isoformat()}],
        "items": [{"sku": f"SKU-{i % 97}", "name": f"Item {i % 97}", "qty": 1 + i % 3, "unit_price": "10.00"}],
    }


def throughput(client: httpx.Client, args: argparse.Namespace) -> dict:
    people = [{"ref": f"sync-c{c:05d}", "name": f"Customer {c}"} for c in range(args.customers)]
    started = time.perf_counter()
    for i in range(0, len(people), args.batch):
        response = client.post("/api/v1/shop/customers:batch", json={"customers": people[i : i + args.batch]})
        response.raise_for_status()
    customers_s = time.perf_counter() - started

    base = datetime(2026, 11, 20, tzinfo=UTC)
    passes = {
        "create": [_order(i, args.customers, "paid", base) for i in range(args.orders)],
        "update": [_order(i, args.customers, "shipped", base + timedelta(hours=1)) for i in range(args.orders)],
        "stale": [_order(i, args.customers, "paid", base) for i in range(args.orders)],
    }
    figures: dict = {"customers": args.customers, "customers_per_s": round(args.customers / customers_s)}
    for name, orders in passes.items():
        counts: dict[str, int] = {}
        batch_s: list[float] = []
        started = time.perf_counter()
        for i in range(0, len(orders), args.batch):
            sent = time.perf_counter()
            response = client.post("/api/v1/shop/orders:batch", json={"orders": orders[i : i + args.batch]})
            response.raise_for_status()
            batch_s.append(time.perf_counter() - sent)
            for outcome, n in response.json()["counts"].items():
                counts[outcome] = counts.get(outcome, 0) + n
        elapsed = time.perf_counter() - started
        figures[name] = {
            "orders": len(orders),
            "orders_per_s": round(len(orders) / elapsed),
            "batch_s_p50": round(statistics.median(batch_s), 3),
            "results": counts,
        }
    return figures


def freshness(client: httpx.Client, args: argparse.Namespace) -> dict:
    conversation = client.post(
        "/api/v1/conversations", json={"customer_ref": "c1002", "customer_sig": sign("c1002")}
    ).json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    order = json.loads((DEMO / "orders.json").read_text())["orders"][3]  # B4735, customer c1002
    fresh, gaps, update_ms = 0, [], []
    now = datetime.now(UTC)
    for round_ in range(args.freshness):
        status = STATUSES[round_ % len(STATUSES)]
        body = {**order, "status": status, "updated_at": (now + timedelta(seconds=round_)).isoformat()}
        sent = time.perf_counter()
        client.put(f"/api/v1/shop/orders/{order['id']}", json=body).raise_for_status()
        updated = time.perf_counter()
        reply = client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            data={"text": f"Where is my order {order['id']}?"},
            headers=headers,
        ).json()["reply"]
        gaps.append((time.perf_counter() - updated) * 1000)
        update_ms.append((updated - sent) * 1000)
        fresh += SAID[status] in reply["text"]
    return {
        "rounds": args.freshness,
        "next_turn_answered_with_the_new_status": f"{fresh}/{args.freshness}",
        "put_ms_p50": round(statistics.median(update_ms), 1),
        "update_to_reply_ms_p50": round(statistics.median(gaps), 1),
        "update_to_reply_ms_max": round(max(gaps), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--freshness", type=int, default=30, help="update-then-ask rounds")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    server_args = argparse.Namespace(database_url=args.database_url, samples=0, port=0, env=[], keep=False)
    server = Server(DEMO, server_args)
    try:
        server.start()
        created = subprocess.run(
            [sys.executable, "-m", "app.cli", "key", "create", "--name", "bench", "--scope", "orders:write",
             "--json"],
            env=server.env_used, cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        key = json.loads(created.stdout)["key"]
        with httpx.Client(base_url=server.url, timeout=300, headers={"Authorization": f"Bearer {key}"}) as client:
            report = {"throughput": throughput(client, args), "freshness": freshness(client, args)}
    finally:
        server.stop()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
