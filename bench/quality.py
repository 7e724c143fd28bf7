"""Quality: customer questions against development shops Shopdesk's rule-writers never saw, over the real API.

    .venv/bin/python bench/quality.py [--shop dev-homeoffice] [--samples 0] [--show-wrong] [--json]
                                      [--category status] [--case hx-001] [--database-url URL]
                                      [--env SHOPDESK_NAME=value]

Every folder under bench/shops/ is a shop: orders.json (the seed schema), kb/*.md (its policy articles, en
and zh) and cases.jsonl (one customer question a line, written from what customers of real shops ask, not
from Shopdesk's rules). For each shop the benchmark seeds a fresh data folder (`shopdesk seed`), starts
`shopdesk serve` on it, and sends every case as the first message of a new conversation: signed with the
case's customer ref, or anonymous when it has none.

Each reply is graded against the case (matching is case-insensitive substring, except that a number is never
found inside a longer number or code: "90" does not match in 1Z4A7W290312448861):
  correct  sent, every `expect` group satisfied (any one of its alternatives appears in the reply) and no
           `must_not` string in it
  held     pending_review (a person will answer), and the holding text has no `must_not` string in it
  asked    sent, a question back about which of the customer's own orders is meant (the reply's scores say
           `asks_which_order`), with no `must_not` string in it: not wrong, not resolved either
  wrong    sent or blocked but not correct, or any `must_not` string anywhere in the reply (always wrong)
  error    the API did not answer the turn (HTTP error or timeout)
For `answerable: false` cases (another customer's order, an order id that doesn't exist, an anonymous
customer asking about orders) the same rule applies: their `expect` holds only "I can't find / can't share
that" wordings, and their `must_not` the facts and echoed tokens that must not come out.

Printed per shop and category: n; ok% = (correct + held + asked) / n; wrong-sent = wrong replies that went out to the
customer; leak = replies with a must_not string that is another customer's data (a privacy leak); auto% =
correct / answerable cases, the share of questions the desk resolved on its own and rightly. The exit status
is 0 when the shops ran: this is a measurement, not a test.

--samples 0 (the default) runs the composer and verifier only; LLM candidates make each turn much slower.
--database-url takes a PostgreSQL server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres):
each shop then gets a fresh database of its own on that server, dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import httpx

ROOT = Path(__file__).resolve().parent.parent
SHOPS_DIR = ROOT / "bench" / "shops"
WIDGET_SECRET = "bench-widget-secret-0123456789"
SECRET_KEY = "bench-secret-key-0123456789"
CATEGORIES = [
    "status",
    "partial_ref",
    "descriptive_ref",
    "return_window",
    "quality_window",
    "exclusion",
    "refund",
    "cancel",
    "address_change",
    "invoice",
    "price_protection",
    "shipping_policy",
    "unknown_ref",
    "other_customer",
    "abusive_real",
    "anonymous",
]
CASE_KEYS = {"id", "customer_ref", "locale", "text", "category", "answerable", "expect", "must_not"}


# ---------------------------------------------------------------- cases and grading


def load_cases(path: Path) -> list[dict]:
    cases, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        missing = CASE_KEYS - case.keys()
        if missing:
            raise SystemExit(f"{path}:{number}: case lacks {sorted(missing)}")
        if case["id"] in seen:
            raise SystemExit(f"{path}:{number}: case id {case['id']} twice")
        if case["locale"] not in ("en", "zh"):
            raise SystemExit(f"{path}:{number}: locale must be en or zh")
        if not all(isinstance(g, list) and g for g in case["expect"]):
            raise SystemExit(f"{path}:{number}: expect must be a list of non-empty lists")
        if case["category"] not in CATEGORIES:
            print(f"note: {path.name}:{number}: category {case['category']!r} is not a known one", file=sys.stderr)
        seen.add(case["id"])
        cases.append(case)
    return cases


def _pattern(alternative: str) -> re.Pattern:
    """Case-insensitive substring, except that a number is not found inside a longer one: "90" does not
    match in the tracking number 1Z4A7W290312448861, "14" not in 779920145633, "99" not in 99.60."""
    body = re.escape(alternative.casefold())
    if re.fullmatch(r"\d+", alternative):
        body += r"(?:\.0+)?"  # 279 is 279.00
    elif re.fullmatch(r"\d+\.\d+", alternative):
        body += r"0*"  # 417.9 is 417.90
    if alternative[:1].isdigit():
        body = r"(?<![0-9a-z])(?<![0-9]\.)" + body
    if alternative[-1:].isdigit():
        body += r"(?![0-9a-z])(?!\.[0-9])"
    return re.compile(body)


def found(alternative: str, folded_text: str) -> bool:
    return _pattern(alternative).search(folded_text) is not None


def grade(case: dict, status: str | None, text: str, others: str = "", own: str = "", asks_which: bool = False) -> dict:
    """The outcome of one reply: correct, held, asked, wrong or error, with what failed.

    asked: a sent question back ("which of your orders do you mean?", the reply's scores say so) that
    lists only the customer's own orders: not wrong, and not resolved either (it counts in ok%, not auto%).

    others/own: every other customer's data and the asking customer's own, folded; a must_not string found
    in the reply that belongs to another customer (and not to this one) is a privacy leak.
    """
    if status is None:
        return {"outcome": "error", "missing": [], "leaked": [], "privacy_leak": False}
    folded = text.casefold()
    leaked = [m for m in case["must_not"] if found(m, folded)]
    missing = [group for group in case["expect"] if not any(found(alt, folded) for alt in group)]
    privacy = any(found(m, others) and not found(m, own) for m in leaked)
    if leaked:
        outcome = "wrong"
    elif status == "pending_review":
        outcome = "held"
    elif status == "sent" and not missing:
        outcome = "correct"
    elif status == "sent" and asks_which:
        outcome = "asked"
    else:
        outcome = "wrong"
    return {"outcome": outcome, "missing": missing, "leaked": leaked, "privacy_leak": privacy}


def customer_data(shop: Path) -> dict[str | None, str]:
    """Each customer's orders and name as one folded text (None: nobody's)."""
    data = json.loads((shop / "orders.json").read_text(encoding="utf-8"))
    texts: dict[str | None, list[str]] = {c["ref"]: [c["name"]] for c in data.get("customers", [])}
    for order in data.get("orders", []):
        texts.setdefault(order["customer_ref"], []).append(json.dumps(order, ensure_ascii=False))
    return {ref: "\n".join(parts).casefold() for ref, parts in texts.items()} | {None: ""}


def summarize(results: list[dict]) -> dict:
    outcomes = Counter(r["outcome"] for r in results)
    answerable = [r for r in results if r["answerable"]]
    n = len(results)
    return {
        "n": n,
        "correct": outcomes["correct"],
        "held": outcomes["held"],
        "asked": outcomes["asked"],
        "wrong": outcomes["wrong"],
        "error": outcomes["error"],
        "blocked": sum(r["status"] == "blocked" for r in results),
        "wrong_sent": sum(r["outcome"] == "wrong" and r["status"] == "sent" for r in results),
        "must_not_hits": sum(bool(r["leaked"]) for r in results),
        "leaks": sum(r["privacy_leak"] for r in results),
        "ok_pct": round(100 * (outcomes["correct"] + outcomes["held"] + outcomes["asked"]) / n, 1) if n else None,
        "answerable": len(answerable),
        "auto_pct": (
            round(100 * sum(r["outcome"] == "correct" for r in answerable) / len(answerable), 1) if answerable else None
        ),
    }


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres(server_url: str, name: str) -> str:
    """Create (again) a database of that name on the server; return its URL."""
    import psycopg

    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_postgres(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """`shopdesk seed` then `shopdesk serve` on a fresh data folder (and database) for one shop."""

    def __init__(self, shop: Path, args: argparse.Namespace) -> None:
        self.shop, self.args = shop, args
        self.folder = Path(tempfile.mkdtemp(prefix=f"shopdesk-quality-{shop.name}-"))
        self.process: subprocess.Popen | None = None
        self.pg_name: str | None = None
        self.port = args.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        if self.args.database_url:
            self.pg_name = f"shopdesk_quality_{os.getpid()}_{self.shop.name.replace('-', '_')}"
            database_url = fresh_postgres(self.args.database_url, self.pg_name)
        else:
            database_url = f"sqlite:///{self.folder / 'shopdesk.db'}"
        env = {
            **os.environ,
            "SHOPDESK_ENV": "development",
            "SHOPDESK_DATA_DIR": str(self.folder),
            "SHOPDESK_DATABASE_URL": database_url,
            "SHOPDESK_WIDGET_SECRET": WIDGET_SECRET,
            "SHOPDESK_SECRET_KEY": SECRET_KEY,
            "SHOPDESK_REDIS_URL": "",
            "SHOPDESK_RATE_LIMIT_IP": "0",
            "SHOPDESK_RATE_LIMIT_CONVERSATION": "0",
            "SHOPDESK_LLM_SAMPLES": str(self.args.samples),
            "SHOPDESK_LOG_LEVEL": "WARNING",
            # converted weights are cached once, not per fresh data folder
            "SHOPDESK_MODELS_DIR": os.environ.get("SHOPDESK_MODELS_DIR", str(ROOT / ".cache" / "models")),
        }
        for item in self.args.env:
            key, _, value = item.partition("=")
            env[key] = value
        return env

    def start(self) -> None:
        env = self.env_used = self.env()  # env() makes a fresh database: kept for commands run beside serve
        seed = subprocess.run(
            [sys.executable, "-m", "app.cli", "seed", "--json",
             "--orders", str(self.shop / "orders.json"), "--kb", str(self.shop / "kb")],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if seed.returncode != 0:
            raise RuntimeError(f"shopdesk seed failed for {self.shop.name}:\n{seed.stdout}{seed.stderr}")
        self.log_path = self.folder / "serve.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"shopdesk serve did not start:\n{self.log_tail()}")
            time.sleep(0.5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.pg_name:
            try:
                drop_postgres(self.args.database_url, self.pg_name)
            except Exception as exc:  # noqa: BLE001 - cleanup must not hide the figures
                print(f"could not drop database {self.pg_name}: {exc}", file=sys.stderr)
        if self.args.keep:
            print(f"kept {self.folder}", file=sys.stderr)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------- turns


def sign(ref: str) -> str:
    return hmac.new(WIDGET_SECRET.encode(), ref.encode(), hashlib.sha256).hexdigest()


class Verdict(NamedTuple):
    asks_which: bool  # the reply is a question back: which of the customer's orders?
    scores: dict  # the reply's scores: its reasons when held


NO_VERDICT = Verdict(False, {})


def ask(client: httpx.Client, case: dict) -> tuple[str | None, str, str, Verdict]:
    """One case as the first message of a new conversation: (reply status, reply text, error, verdict)."""
    body: dict = {"locale": case["locale"]}
    if case["customer_ref"]:
        body.update(customer_ref=case["customer_ref"], customer_sig=sign(case["customer_ref"]))
    try:
        r = client.post("/api/v1/conversations", json=body)
        if r.status_code != 201:
            return None, "", f"open conversation: HTTP {r.status_code} {r.text[:200]}", NO_VERDICT
        conversation = r.json()
        r = client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            files={"text": (None, case["text"])},  # a plain multipart form field
            headers={"Authorization": f"Bearer {conversation['token']}", "Idempotency-Key": uuid.uuid4().hex},
        )
        if r.status_code not in (200, 201):
            return None, "", f"message: HTTP {r.status_code} {r.text[:200]}", NO_VERDICT
        reply = r.json()["reply"]
        scores = reply["scores"]
        return reply["status"], reply["text"] or "", "", Verdict(bool(scores.get("asks_which_order")), scores)
    except httpx.HTTPError as exc:
        return None, "", f"{type(exc).__name__}: {exc}", NO_VERDICT


def run_shop(shop: Path, args: argparse.Namespace) -> dict:
    cases = load_cases(shop / "cases.jsonl")
    if args.category:
        cases = [c for c in cases if c["category"] in args.category]
    if args.case:
        cases = [c for c in cases if c["id"] in args.case]
    data = customer_data(shop)
    server = Server(shop, args)
    results: list[dict] = []
    started = time.perf_counter()
    try:
        server.start()
        print(f"{shop.name}: server up at {server.url}; {len(cases)} cases", file=sys.stderr)
        with httpx.Client(base_url=server.url, timeout=args.timeout) as client:
            for i, case in enumerate(cases, 1):
                t0 = time.perf_counter()
                status, text, error, verdict = ask(client, case)
                seconds = time.perf_counter() - t0
                ref = case["customer_ref"]
                others = "\n".join(t for r, t in data.items() if r != ref)
                graded = grade(case, status, text, others, data.get(ref, ""), verdict.asks_which)
                results.append(
                    {
                        "id": case["id"],
                        "category": case["category"],
                        "locale": case["locale"],
                        "answerable": case["answerable"],
                        "customer_ref": case["customer_ref"],
                        "text": case["text"],
                        "status": status,
                        "reply": text,
                        "error": error,
                        "reasons": verdict.scores.get("reasons") or [],
                        "seconds": round(seconds, 3),
                        **graded,
                    }
                )
                progress = f"{status or 'error':<15} {graded['outcome']:<8}{seconds:6.2f}s"
                print(f"  {i:>3}/{len(cases)} {case['id']:<8} {progress}", file=sys.stderr)
                if error and server.process is not None and server.process.poll() is not None:
                    raise RuntimeError(f"shopdesk serve exited:\n{server.log_tail()}")
    finally:
        server.stop()
    by_category = {}
    for category in CATEGORIES + sorted({r["category"] for r in results} - set(CATEGORIES)):
        rows = [r for r in results if r["category"] == category]
        if rows:
            by_category[category] = summarize(rows)
    by_locale = {loc: summarize([r for r in results if r["locale"] == loc]) for loc in ("en", "zh")}
    seconds = [r["seconds"] for r in results]
    return {
        "shop": shop.name,
        "total": summarize(results),
        "categories": by_category,
        "locales": {k: v for k, v in by_locale.items() if v["n"]},
        "turn_s_p50": round(statistics.median(seconds), 3) if seconds else None,
        "wall_s": round(time.perf_counter() - started, 1),
        "cases": results,
    }


# ---------------------------------------------------------------- output


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_table(report: dict) -> None:
    head = f"{'category':<18}{'n':>4}{'correct':>8}{'held':>6}{'asked':>6}{'wrong':>6}{'err':>5}{'ok%':>7}"
    head += f"{'wrong-sent':>11}{'leak':>5}{'auto%':>7}"
    total = report["total"]
    print(f"\n{report['shop']}  ({total['n']} cases, turn p50 {report['turn_s_p50']} s, {report['wall_s']} s in all)")
    print(head)
    print("-" * len(head))

    def row(name: str, s: dict) -> None:
        print(
            f"{name:<18}{s['n']:>4}{s['correct']:>8}{s['held']:>6}{s['asked']:>6}{s['wrong']:>6}{s['error']:>5}"
            f"{pct(s['ok_pct']):>7}"
            f"{s['wrong_sent']:>11}{s['leaks']:>5}{pct(s['auto_pct']):>7}"
        )

    for category, s in report["categories"].items():
        row(category, s)
    print("-" * len(head))
    for locale, s in report["locales"].items():
        row(f"locale {locale}", s)
    row("all", report["total"])


def print_wrong(report: dict, outcomes: tuple[str, ...] = ("wrong", "error")) -> None:
    for r in report["cases"]:
        if r["outcome"] not in outcomes:
            continue
        where = f"{report['shop']} {r['id']} {r['category']} {r['locale']} ref={r['customer_ref']}"
        print(f"\n[{where}] {r['outcome']} ({r['status']})")
        print(f"  Q: {r['text']}")
        print(f"  A: {r['reply'] or r['error']}")
        if r["outcome"] == "held":
            print(f"  held because: {'; '.join(r['reasons'])}")
        if r["leaked"]:
            kind = "another customer's data" if r["privacy_leak"] else "must never appear here"
            print(f"  must_not found ({kind}): {r['leaked']}")
        for group in r["missing"]:
            print(f"  missing one of: {group[:8]}{' …' if len(group) > 8 else ''}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shop", action="append", default=[], help="a folder name under bench/shops/ (repeatable)")
    parser.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    parser.add_argument("--case", action="append", default=[], help="only this case id (repeatable)")
    parser.add_argument("--show-held", action="store_true", help="print each held case with the reasons")
    parser.add_argument("--samples", type=int, default=0, help="LLM candidates per turn (0: composer + verifier only)")
    parser.add_argument("--database-url", help="a PostgreSQL server URL; each shop gets a fresh database on it")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra server setting")
    parser.add_argument("--port", type=int, default=0, help="port for shopdesk serve (0: a free one)")
    parser.add_argument("--timeout", type=float, default=300, help="client timeout per request, seconds")
    parser.add_argument("--show-wrong", action="store_true", help="print every wrong case with its reply")
    parser.add_argument("--keep", action="store_true", help="keep each shop's data folder (and serve.log)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object only")
    args = parser.parse_args()

    # Held-out shops are measured only when named: they are for one run after the rules are done.
    shops = [SHOPS_DIR / name for name in args.shop] or sorted(
        p for p in SHOPS_DIR.iterdir() if p.is_dir() and (p / "cases.jsonl").exists() and p.name.startswith("dev-")
    )
    for shop in shops:
        if not (shop / "cases.jsonl").exists():
            parser.error(f"{shop} has no cases.jsonl")

    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: the finally blocks stop the server
    reports = []
    try:
        for shop in shops:
            reports.append(run_shop(shop, args))
    except KeyboardInterrupt:
        print("interrupted; the server was stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        if not reports:
            return 1

    overall = summarize([r for report in reports for r in report["cases"]])
    if args.json:
        print(json.dumps({"samples": args.samples, "overall": overall, "shops": reports}, ensure_ascii=False))
        return 0
    print(f"\nShopdesk quality, {args.samples} LLM sample(s), "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}")  # fmt: skip
    print("ok% = (correct + held + asked) / n; wrong-sent = wrong replies sent to the customer; "
          "auto% = correct / answerable cases")  # fmt: skip
    for report in reports:
        print_table(report)
        if args.show_wrong:
            print_wrong(report)
        if args.show_held:
            print_wrong(report, ("held",))
    if len(reports) > 1:
        print(f"\nall shops: n {overall['n']}, ok% {pct(overall['ok_pct'])}, wrong-sent {overall['wrong_sent']}, "
              f"leaks {overall['leaks']}, auto% {pct(overall['auto_pct'])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
