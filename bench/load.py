"""Load: concurrent customer conversations against a real `shopdesk serve`, then an exactly-once audit.

    .venv/bin/python bench/load.py [--users 200] [--duration 60] [--mix 70,20,10] [--think 20,60]
                                   [--workers 2] [--perception-processes 1] [--samples 0]
                                   [--url URL --widget-secret S]

Each virtual customer opens a conversation (a signed customer ref of the demo shop), then sends turns
until the time is up: think, send text, an invoice screenshot or a voice message (by --mix), wait for the
reply. Every turn carries an Idempotency-Key; a dropped connection, a 5xx or a 429 is retried with the
same key, as the widget does. Without --url the benchmark starts `shopdesk serve` itself on a fresh
PostgreSQL database (127.0.0.1:5432) and Redis (db 13), seeded with the demo shop.

Printed: throughput; client latency p50/p95/p99 by kind; the server's stage times from each response's
Server-Timing header ("model" = OCR + ASR + LLM, "app" = the rest of the request on the server: the API
layer's own cost); errors; and the audit: every customer message stored exactly once and answered once,
read back through the API and, when the benchmark owns the database, by SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.turn import percentile  # noqa: E402

CUSTOMERS = ["c1001", "c1002", "c1003"]
TEXTS = [
    "Where is my order A1023?",
    "我的订单A1024发货了吗？",
    "How long does a refund take?",
    "Is shipping free?",
    "Can I change the address of my order?",
    "能开发票报销吗",
    "Hello, what can you do?",
]


@dataclass
class Turn:
    kind: str
    status: int | None = None
    seconds: float = 0.0
    attempts: int = 0
    message_id: int | None = None
    reply_status: str | None = None
    timing: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Conversation:
    id: str
    token: str
    turns: list[Turn] = field(default_factory=list)


def parse_server_timing(header: str) -> dict[str, float]:
    timing = {}
    for part in header.split(","):
        name, _, value = part.strip().partition(";dur=")
        if value:
            timing[name] = float(value)
    return timing


def media() -> dict[str, list[tuple[str, bytes, str]]]:
    """Invoice screenshots and voice messages, made once (generated invoices, espeak-ng speech)."""
    from tests.support.invoices import generate, png_bytes
    from tests.support.speech import encode, speak

    images = [(f"invoice-{s}.png", png_bytes(generate(s).image), "image/png") for s in (1, 2, 3, 4)]
    clips = [
        ("voice.webm", encode(speak("Where is my order A one zero two three?"), "webm"), "audio/webm"),
        ("voice.m4a", encode(speak("How long does a refund take?"), "m4a"), "audio/mp4"),
    ]
    return {"image": images, "audio": clips}


async def open_conversation(client: httpx.AsyncClient, secret: str, ref: str) -> Conversation:
    from app.chat.service import sign_customer_ref

    body = {"customer_ref": ref, "customer_sig": sign_customer_ref(secret, ref)}
    for _ in range(5):
        try:
            response = await client.post("/api/v1/conversations", json=body)
        except httpx.TransportError:
            await asyncio.sleep(1)
            continue
        if response.status_code == 201:
            data = response.json()
            return Conversation(data["id"], data["token"])
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    raise RuntimeError("could not open a conversation")


async def send_turn(client: httpx.AsyncClient, conversation: Conversation, turn: Turn, files: list, text: str) -> None:
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {conversation.token}", "Idempotency-Key": key}
    started = time.perf_counter()
    for attempt in range(1, 6):
        turn.attempts = attempt
        try:
            response = await client.post(
                f"/api/v1/conversations/{conversation.id}/messages",
                data={"text": text},
                files=[("files", f) for f in files],
                headers=headers,
            )
        except httpx.TransportError as exc:
            turn.error = f"{type(exc).__name__}"
            await asyncio.sleep(1)
            continue
        if response.status_code >= 500 or response.status_code in (409, 429) and "Retry-After" in response.headers:
            # 5xx, rate limited, or the first attempt's turn still running: the widget retries the same key.
            turn.error = f"HTTP {response.status_code}"
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        turn.status, turn.error = response.status_code, None
        if response.status_code == 201:
            body = response.json()
            turn.message_id, turn.reply_status = body["message"]["id"], body["reply"]["status"]
            turn.timing = parse_server_timing(response.headers.get("Server-Timing", ""))
        else:
            turn.error = f"HTTP {response.status_code}: {response.text[:200]}"
        break
    turn.seconds = time.perf_counter() - started


async def customer(
    index: int, client: httpx.AsyncClient, args: argparse.Namespace, files: dict, deadline: float
) -> Conversation:
    rng = random.Random(index)
    conversation = await open_conversation(client, args.widget_secret, CUSTOMERS[index % len(CUSTOMERS)])
    kinds, weights = ["text", "image", "audio"], [int(w) for w in args.mix.split(",")]
    low, high = (float(v) for v in args.think.split(","))
    while True:
        await asyncio.sleep(rng.uniform(low, high))
        if time.monotonic() >= deadline:
            return conversation
        kind = rng.choices(kinds, weights)[0]
        turn = Turn(kind)
        conversation.turns.append(turn)
        chosen = [rng.choice(files[kind])] if kind != "text" else []
        text = rng.choice(TEXTS) if kind != "audio" else ""
        await send_turn(client, conversation, turn, chosen, text)


async def audit(client: httpx.AsyncClient, conversations: list[Conversation]) -> dict[str, int]:
    """Read every conversation back: each confirmed turn's message stored once, answered once, nothing extra."""
    counts = Counter()
    for conversation in conversations:
        headers = {"Authorization": f"Bearer {conversation.token}"}
        messages, after = [], 0
        while True:
            page = (
                await client.get(f"/api/v1/conversations/{conversation.id}/messages?after={after}", headers=headers)
            ).json()["messages"]
            if not page:
                break
            messages += page
            after = page[-1]["id"]
        customer_ids = [m["id"] for m in messages if m["role"] == "customer"]
        replies = Counter(m["reply_to_id"] for m in messages if m["role"] == "assistant" and m["reply_to_id"])
        confirmed = [t.message_id for t in conversation.turns if t.message_id is not None]
        counts["sent"] += len(conversation.turns)
        counts["confirmed"] += len(confirmed)
        counts["stored"] += len(customer_ids)
        counts["duplicated"] += len(customer_ids) - len(set(customer_ids))
        counts["lost"] += len(set(confirmed) - set(customer_ids))
        counts["unconfirmed_but_stored"] += len(set(customer_ids) - set(confirmed))
        counts["unanswered"] += sum(1 for i in customer_ids if replies[i] == 0)
        counts["answered_twice"] += sum(1 for i in customer_ids if replies[i] > 1)
    return dict(counts)


def sql_audit(database_url: str) -> dict[str, int]:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        dup_keys = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE idempotency_key IS NOT NULL "
            "GROUP BY conversation_id, idempotency_key HAVING count(*) > 1) d"
        ).fetchone()[0]
        not_done = conn.execute(
            "SELECT count(*) FROM messages WHERE role = 'customer' AND status <> 'done'"
        ).fetchone()[0]
        extra_replies = conn.execute(
            "SELECT count(*) FROM (SELECT reply_to_id FROM messages WHERE role = 'assistant' "
            "AND reply_to_id IS NOT NULL GROUP BY reply_to_id HAVING count(*) > 1) r"
        ).fetchone()[0]
    return {"keys_stored_twice": dup_keys, "customer_messages_not_done": not_done, "replied_twice": extra_replies}


def drop_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(args: argparse.Namespace, folder: Path) -> tuple[subprocess.Popen, str, str]:
    """A fresh PostgreSQL database seeded with the demo shop, and `shopdesk serve` on it."""
    import psycopg

    name = f"shopdesk_load_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = {
        **os.environ,
        "SHOPDESK_ENV": "development",
        "SHOPDESK_DATABASE_URL": database_url,
        "SHOPDESK_REDIS_URL": args.redis_url,
        "SHOPDESK_DATA_DIR": str(folder),
        "SHOPDESK_MODELS_DIR": os.environ.get("SHOPDESK_MODELS_DIR", str(ROOT / ".cache" / "models")),
        "SHOPDESK_WIDGET_SECRET": args.widget_secret,
        "SHOPDESK_LLM_SAMPLES": str(args.samples),
        "SHOPDESK_RATE_LIMIT_IP": "0",  # every virtual customer comes from this one address
        "SHOPDESK_LOG_LEVEL": "WARNING",
        "SHOPDESK_PERCEPTION_PROCESSES": str(args.perception_processes),
    }
    seed = "from app.db import migrate, session_scope\nfrom app.shop.service import seed_demo\nmigrate()\n"
    seed += "with session_scope() as s:\n    seed_demo(s)\n"
    subprocess.run([sys.executable, "-c", seed], env=env, cwd=ROOT, check=True)
    port = 18000 + os.getpid() % 1000
    log = (folder / "serve.log").open("wb")
    command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)]
    process = subprocess.Popen([sys.executable, "-m", "app.cli", *command], env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"shopdesk serve did not start; see {folder / 'serve.log'}")
        time.sleep(0.5)
    return process, url, database_url


async def warm_up(client: httpx.AsyncClient, args: argparse.Namespace, files: dict) -> None:
    """Load OCR and ASR in every api process before the clock starts (first use loads the models)."""
    conversations = [await open_conversation(client, args.widget_secret, "c1001") for _ in range(args.workers * 2)]
    await asyncio.gather(
        *(
            send_turn(client, c, Turn(kind), [files[kind][0]], "warm-up")
            for c in conversations
            for kind in ("image", "audio")
        )
    )


def report(conversations: list[Conversation], duration: float, args: argparse.Namespace, checks: dict) -> dict:
    turns = [t for c in conversations for t in c.turns]
    done = [t for t in turns if t.status == 201]
    out: dict = {
        "users": args.users,
        "duration_s": round(duration, 1),
        "workers": args.workers,
        "llm_samples": args.samples,
        "perception_processes": args.perception_processes,
        "turns": len(turns),
        "completed": len(done),
        "throughput_turns_per_s": round(len(done) / duration, 2),
        "errors": dict(Counter(t.error or f"HTTP {t.status}" for t in turns if t.status != 201)),
        "retried_turns": sum(1 for t in turns if t.attempts > 1),
        "reply_status": dict(Counter(t.reply_status for t in done)),
        "client_latency_ms": {},
        "server_ms": {},
        **checks,
    }
    by_kind: dict[str, list[float]] = defaultdict(list)
    for t in done:
        by_kind[t.kind].append(t.seconds * 1000)
        by_kind["all"].append(t.seconds * 1000)
    for kind, values in by_kind.items():
        out["client_latency_ms"][kind] = {
            "n": len(values),
            **{f"p{q}": round(percentile(values, q / 100), 1) for q in (50, 95, 99)},
        }
    stages: dict[str, list[float]] = defaultdict(list)
    for t in done:
        for name, ms in t.timing.items():
            stages[name].append(ms)
        if "total" in t.timing:
            stages["outside_app (client - server)"].append(max(0.0, t.seconds * 1000 - t.timing["total"]))
    for name, values in stages.items():
        out["server_ms"][name] = {f"p{q}": round(percentile(values, q / 100), 1) for q in (50, 95, 99)}
        out["server_ms"][name]["mean"] = round(statistics.fmean(values), 1)
    return out


async def run(args: argparse.Namespace, url: str, database_url: str | None) -> dict:
    files = media()
    limits = httpx.Limits(max_connections=args.users + 10, max_keepalive_connections=args.users + 10)
    async with httpx.AsyncClient(base_url=url, timeout=args.timeout, limits=limits) as client:
        await warm_up(client, args, files)
        print(f"{args.users} customers for {args.duration} s against {url} …", file=sys.stderr)
        started = time.monotonic()
        deadline = started + args.duration
        conversations = await asyncio.gather(*(customer(i, client, args, files, deadline) for i in range(args.users)))
        duration = time.monotonic() - started
        checks = {"audit": await audit(client, list(conversations))}
    if database_url:
        checks["sql_audit"] = sql_audit(database_url)
    return report(list(conversations), duration, args, checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200, help="concurrent customer conversations")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--mix", default="70,20,10", help="weights of text, image and audio turns")
    parser.add_argument("--think", default="20,60", help="seconds a customer waits between turns: low,high")
    parser.add_argument("--workers", type=int, default=2, help="api processes (shopdesk serve --workers)")
    parser.add_argument("--samples", type=int, default=0, help="LLM candidates per turn (0: composer only)")
    parser.add_argument(
        "--perception-processes", type=int, default=1, help="OCR/ASR processes per api process (0: in its threads)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="client timeout per request, seconds")
    parser.add_argument("--url", help="a running Shopdesk (its demo shop seeded); default: start one")
    parser.add_argument("--widget-secret", default="load-test-widget-secret-0123")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object only")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database for a look afterwards")
    args = parser.parse_args()

    process = None
    database_url = None
    url = args.url
    if url is None:
        process, url, database_url = start_server(args, Path(tempfile.mkdtemp(prefix="shopdesk-load-")))
    try:
        result = asyncio.run(run(args, url, database_url))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        if database_url and not args.keep:
            drop_database(database_url)
    if args.json:
        print(json.dumps(result))
        return 0
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if not result["turns"]:
        print("\nno turns were sent: the duration is shorter than the think time (--think, --duration)")
        return 1
    clean = not result["errors"] and not any(
        result["audit"][k] for k in ("duplicated", "lost", "unanswered", "answered_twice", "unconfirmed_but_stored")
    )
    app_p99 = result["server_ms"].get("app", {}).get("p99")
    print(f"\n{'PASS' if clean else 'FAIL'}: {result['completed']}/{result['turns']} turns, "
          f"{result['throughput_turns_per_s']} turns/s, app p99 {app_p99} ms")  # fmt: skip
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
