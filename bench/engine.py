"""The local backend's engines side by side: transformers fp32 and the int4 engine (ONNX Runtime GenAI).

    .venv/bin/python bench/engine.py [--new-tokens 64] [--answer-tokens 48] [--threads 1 2] [--prompts 20]

Each engine runs in a fresh process per thread count: load time (the model and its tokenizer, with
torch/transformers already imported, as in the server), resident memory (VmRSS after the run, VmHWM its
peak), prefill time and decode tokens/s (a fixed number of new tokens, prefill excluded) on real turn
prompts: what run_turn sends the model for the demo shop's questions. Then greedy agreement: every prompt
answered by both engines (at the most threads asked); "agree" = the same text, or the same first
sentence. On the int4 engine the answers run twice: as served, each prompt reusing the key/value cache of
the ones before it (app/llm/onnx_engine.py PrefixCache), and with every prompt prefilled whole; the bench
prints both times and how many answers are the same. llama.cpp's figure is quoted from shared/FINDINGS.md
(a source build of llama-cpp-python, not installed here), not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embedded import fresh_embedded  # noqa: E402

ENGINES = {"transformers": "transformers fp32", "onnx": "ONNX Runtime GenAI int4"}
LLAMA_CPP = (
    "llama.cpp Q4_1 GGUF (FINDINGS.md, quiet machine, 106-token prompt): 39.2 tok/s at 1 thread, 59.7 at 2; 209 MB RSS"
)
# Customer messages (customer ref, text): bench/turn.py's ten and ten more, English and Chinese.
QUESTIONS = [
    ("c1001", "Where is my order A1023?"),
    ("c1001", "我的订单A1024发货了吗？"),
    ("c1002", "How long does a refund take?"),
    ("c1002", "Can I return the headphones from B4712?"),
    ("c1003", "退款多久到账"),
    ("c1001", "Where is order B4712?"),
    ("c1002", "Is shipping free?"),
    ("c1001", "能开发票报销吗 A1023"),
    ("c1002", "Hello, what can you do?"),
    ("c1003", "Can I change the address of my order?"),
    ("c1002", "Where is my order B4735?"),
    ("c1001", "What is the tracking number for A1023?"),
    ("c1003", "我想退货，怎么操作？"),
    ("c1001", "Do you ship to Hong Kong?"),
    ("c1002", "The price dropped after I bought it, can I get the difference back?"),
    ("c1001", "I want to talk about my last order"),
    ("c1003", "可以修改收货地址吗？"),
    ("c1002", "How do I get an invoice for my company?"),
    ("c1001", "Thanks, that's all!"),
    ("c1003", "What payment methods do you accept?"),
]


class PromptRecorder:
    """A ChatModel that keeps the prompts run_turn sends it and answers nothing."""

    name = "recorder"
    multimodal = False  # sent the text alone, as the embedded model is

    def __init__(self) -> None:
        self.prompts: list[list[dict[str, Any]]] = []

    def generate(self, messages: list[dict[str, Any]], **_: Any) -> list[str]:
        self.prompts.append(messages)
        return []


def turn_prompts(count: int) -> list[list[dict[str, Any]]]:
    """The LLM prompts of real turns on the demo shop: run_turn's own grounding and build_messages."""
    fresh_embedded("shopdesk-bench-engine-", SHOPDESK_LLM_BACKEND="local", SHOPDESK_LLM_SAMPLES="1")
    from app.chat.turn import run_turn
    from app.config import get_settings
    from app.db import get_sessionmaker, migrate, session_scope
    from app.shop import repository
    from app.shop.service import seed_demo

    # Above any score: no composer reply is settled before the model is asked, so every turn asks it.
    settings = get_settings().model_copy(update={"reply_threshold": 1.01})
    migrate()
    with session_scope() as s:
        seed_demo(s)
    recorder = PromptRecorder()
    with get_sessionmaker()() as session:
        for ref, text in (QUESTIONS * (count // len(QUESTIONS) + 1))[:count]:
            customer = repository.get_customer_by_ref(session, ref)
            run_turn(session, settings, text=text, locale="en", customer_id=customer.id, model=recorder)
    return recorder.prompts


def _memory() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    found = {k: int(v) / 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}
    return {"rss_mb": round(found.get("VmRSS", 0), 1), "peak_rss_mb": round(found.get("VmHWM", 0), 1)}


def _timed_onnx(loaded: Any, ids: list[int], new_tokens: int) -> tuple[float, float]:
    """(prefill seconds, decode seconds for new_tokens tokens) on the int4 engine."""
    import numpy as np
    import onnxruntime_genai as og

    engine = loaded.onnx
    params = og.GeneratorParams(engine._model)
    total = len(ids) + new_tokens
    params.set_search_options(max_length=total, min_length=total, do_sample=False)
    generator = og.Generator(engine._model, params)
    started = time.perf_counter()
    generator.append_tokens(np.array([ids], dtype=np.int32))
    prefilled = time.perf_counter()
    while not generator.is_done():
        generator.generate_next_token()
    return prefilled - started, time.perf_counter() - prefilled


def _timed_transformers(loaded: Any, ids: list[int], new_tokens: int) -> tuple[float, float]:
    """(prefill seconds, decode seconds for new_tokens tokens) with transformers."""
    import torch

    model = loaded.model
    inputs = torch.tensor([ids])
    with torch.inference_mode():
        started = time.perf_counter()
        model(inputs, use_cache=True)
        prefill = time.perf_counter() - started
        started = time.perf_counter()
        model.generate(
            inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
            do_sample=False, pad_token_id=loaded.tokenizer.eos_token_id,
        )  # fmt: skip
        whole = time.perf_counter() - started
    return prefill, max(whole - prefill, 1e-9)


def worker(
    engine: str, threads: int, prompts_file: str, new_tokens: int, answer_tokens: int, answers: bool, eval_suite: bool
) -> None:
    """One engine at one thread count in this process: prints one JSON line."""
    import torch  # noqa: F401 - imported before timing the load, as in the server
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401 - (its lazy imports take ≈ 4 s)

    from app.llm.local import LocalChatModel

    prompts = json.loads(Path(prompts_file).read_text())
    before = _memory()["rss_mb"]
    model = LocalChatModel(None, Path(os.environ["SHOPDESK_MODELS_DIR"]), threads=threads, engine=engine)  # type: ignore[arg-type]
    started = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - started
    loaded = model._get()
    served = loaded.engine
    if engine == "onnx" and loaded.onnx is None:
        raise SystemExit(f"the int4 engine did not load: {model.engine_note}")
    timed = _timed_onnx if loaded.onnx is not None else _timed_transformers
    ids_of = [
        loaded.tokenizer.apply_chat_template(p, add_generation_prompt=True, return_dict=True)["input_ids"]
        for p in prompts
    ]
    timed(loaded, ids_of[0], 4)  # warm-up
    prefill, rates = [], []
    for ids in ids_of[:3]:
        pre, decode = timed(loaded, list(ids), new_tokens)
        prefill.append(pre)
        rates.append(new_tokens / decode)
    result: dict[str, Any] = {
        "engine": served,
        "threads": threads,
        "load_s": round(load_s, 2),
        "prompt_tokens": [len(i) for i in ids_of[:3]],
        "prefill_ms": round(statistics.median(prefill) * 1000, 1),
        "tokens_per_s": round(statistics.median(rates), 1),
    }
    if eval_suite:
        from training import evaluate

        scores = evaluate.score(model, evaluate.fixed_suite(), answer_tokens)
        result["eval_suite"] = {k: scores[k] for k in ("grounded_accuracy", "verifier_pass", "moderation_pass")}
    if answers:
        started = time.perf_counter()
        result["answers"] = [model.generate(p, n=1, max_tokens=answer_tokens)[0] for p in prompts]
        result["answers_s"] = round(time.perf_counter() - started, 1)
        if loaded.onnx is not None:
            cached = result["answers"]
            result["prefix_cache"] = _without_prefix_cache(model, loaded.onnx, prompts, answer_tokens, cached)
        result["prompt_tokens_mean"] = round(statistics.mean(len(i) for i in ids_of), 1)
    result.update(_memory(), imports_rss_mb=before)
    print(json.dumps(result, ensure_ascii=False))


def _without_prefix_cache(
    model: Any, engine: Any, prompts: list[Any], answer_tokens: int, cached: list[str]
) -> dict[str, Any]:
    """The same answers with every prompt prefilled whole (a new cache for each), against the run above,
    which reused the cache of earlier prompts: the time each took and whether the answers are the same."""
    from app.llm import onnx_engine

    reused = engine._cache.reused_tokens / max(engine._cache.prompt_tokens, 1)
    started, fresh = time.perf_counter(), []
    for p in prompts:
        engine._cache = onnx_engine.PrefixCache(engine._slot_generator)
        fresh.append(model.generate(p, n=1, max_tokens=answer_tokens)[0])
    return {
        "fresh_s": round(time.perf_counter() - started, 1),
        "reused_share": round(reused, 3),
        "same": sum(a == b for a, b in zip(cached, fresh, strict=True)),
    }


def first_sentence(text: str) -> str:
    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？])\s*|\n+", text.strip()) if p.strip()]
    return parts[0] if parts else ""


def agree(a: str, b: str) -> bool:
    return a.strip() == b.strip() or first_sentence(a) == first_sentence(b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-tokens", type=int, default=64, help="decoded per speed measurement")
    parser.add_argument("--answer-tokens", type=int, default=48, help="max new tokens per agreement answer")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--eval-suite", action="store_true", help="also score the eval gate's fixed suite")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--prompts-file", help=argparse.SUPPRESS)
    parser.add_argument("--answers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("SHOPDESK_MODELS_DIR", str(Path(__file__).resolve().parent.parent / "data" / "models"))
    if args.worker:
        engine, threads = args.worker[0], int(args.worker[1])
        worker(engine, threads, args.prompts_file, args.new_tokens, args.answer_tokens, args.answers, args.eval_suite)
        return 0

    prompts = turn_prompts(args.prompts)
    prompts_file = Path(os.environ["SHOPDESK_DATA_DIR"]) / "prompts.json"
    prompts_file.write_text(json.dumps(prompts, ensure_ascii=False))
    results: list[dict[str, Any]] = []
    for engine in args.engines:
        for threads in args.threads:
            answers = threads == max(args.threads)
            print(f"{ENGINES[engine]}, {threads} thread(s)…", file=sys.stderr)
            command = [
                sys.executable, __file__, "--worker", engine, str(threads), "--prompts-file", str(prompts_file),
                "--new-tokens", str(args.new_tokens), "--answer-tokens", str(args.answer_tokens),
            ] + (["--answers"] if answers else [])  # fmt: skip
            command += ["--eval-suite"] if answers and args.eval_suite else []
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(
        f"\nLocal backend engines, SmolLM2-135M-Instruct, {os.cpu_count()} CPUs (load from other jobs not controlled)"
    )
    header = ("threads", 8), ("tok/s", 8), ("prefill ms", 12), ("prompt tok", 12), ("load s", 8), ("RSS MB", 8)
    print(f"{'engine':<20}" + "".join(f"{name:>{width}}" for name, width in header) + f"{'peak MB':>9}{'model MB':>10}")
    for r in results:
        print(
            f"{r['engine']:<20}{r['threads']:>8}{r['tokens_per_s']:>8.1f}{r['prefill_ms']:>12.1f}"
            f"{statistics.mean(r['prompt_tokens']):>12.0f}{r['load_s']:>8.2f}{r['rss_mb']:>8.0f}{r['peak_rss_mb']:>9.0f}"
            f"{r['rss_mb'] - r['imports_rss_mb']:>10.0f}"
        )
    print("(model MB: RSS after the run less RSS with torch and transformers imported, before loading)")
    print(f"(quoted) {LLAMA_CPP}")
    for r in results:
        if "prefix_cache" in r:
            c = r["prefix_cache"]
            print(
                f"int4 prefix cache, {r['threads']} thread(s): answering the {args.prompts} prompts took"
                f" {r['answers_s']} s ({100 * c['reused_share']:.0f}% of their tokens read from the cache) against"
                f" {c['fresh_s']} s with each prompt prefilled whole; the same answers in {c['same']} of {args.prompts}"
            )
    with_answers = [r for r in results if "answers" in r]
    summary: dict[str, Any] = {"results": [{k: v for k, v in r.items() if k != "answers"} for r in results]}
    if len(with_answers) == 2:
        a, b = (r["answers"] for r in with_answers)
        exact = sum(x.strip() == y.strip() for x, y in zip(a, b, strict=True))
        agreed = sum(agree(x, y) for x, y in zip(a, b, strict=True))
        print(
            f"\ngreedy agreement on {len(a)} turn prompts (≈{with_answers[0]['prompt_tokens_mean']:.0f} tokens, "
            f"max {args.answer_tokens} new): {agreed}/{len(a)} agree ({exact} exact, "
            f"{agreed - exact} same first sentence); answering all took "
            + ", ".join(f"{r['engine']} {r['answers_s']} s" for r in with_answers)
        )
        for x, y in list(zip(a, b, strict=True))[:3]:
            print(f"  {with_answers[0]['engine']}: {x[:100]!r}\n  {with_answers[1]['engine']}: {y[:100]!r}")
        summary["agreement"] = {"prompts": len(a), "agree": agreed, "exact": exact}
    for r in with_answers:
        if "eval_suite" in r:
            print(f"eval gate's fixed suite, {r['engine']}: {r['eval_suite']}")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
