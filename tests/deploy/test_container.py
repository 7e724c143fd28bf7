"""The deployment as shipped, without Docker: the wheel built from what the Dockerfile copies, installed
(not editable) into a fresh virtual environment outside the checkout, and the commands docker-compose.yml
gives api, worker, beat and trainer run as they are, from an empty working directory, against the test
PostgreSQL (a database of this module's own, migrated by the api's `--migrate`) and Redis (db 14).

A shortcut keeps it to seconds: the fresh environment sees the suite's installed dependencies through a
plain path line in a .pth file (the editable install's finder there is not loaded), so the wheel's copy of
Shopdesk is the one that runs; the first test checks exactly that.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import make_url

from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, _admin
from tests.deploy import compose
from tests.instances import ShopdeskProcess, wait_until

pytestmark = pytest.mark.slow

ROOT = compose.ROOT
PACKAGES = ("app", "moderation", "training", "migrations", "web")  # what the wheel must carry, file for file
REDIS_URL = TEST_REDIS_URL.rsplit("/", 1)[0] + "/14"  # a Redis db the rest of the suite doesn't use
DATABASE_URL = make_url(TEST_DATABASE_URL).set(database=f"shopdesk_deploy_{os.getpid()}")
ADMIN = {"email": "ops@shop.test", "password": "correct horse battery"}


@dataclass
class Installed:
    venv: Path
    site: Path  # the fresh environment's site-packages

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=120)


def _pip(*args: str, python: Path | str = sys.executable) -> None:
    done = subprocess.run([str(python), "-m", "pip", "-q", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _console_script(installed: Installed, name: str) -> None:
    """A dependency's console script, as pip writes it when it installs that dependency (here it didn't)."""
    (entry,) = metadata.entry_points(group="console_scripts", name=name)
    script = installed.bin / name
    script.write_text(
        f"#!{installed.bin / 'python'}\nimport sys\nfrom {entry.module} import {entry.attr}\nsys.exit({entry.attr}())\n"
    )
    script.chmod(0o755)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Shopdesk's wheel, built from the Dockerfile's wheel stage and installed into a fresh environment."""
    root = tmp_path_factory.mktemp("deploy")
    compose.copy_wheel_context(root / "context")
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(root / "wheels"),
         str(root / "context"))  # fmt: skip
    (wheel,) = (root / "wheels").glob("shopdesk-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "shopdesk-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", str(wheel), python=venv / "bin" / "python")
    result = Installed(venv, site)
    _console_script(result, "celery")  # the worker's healthcheck calls it
    return result


def _env(installed: Installed, data_dir: Path) -> dict[str, str]:
    """What a container of the app image has, pointed at the test's servers; the rest of the test settings
    (secrets, models folder, no model samples) come from the suite's environment."""
    here = Path(sys.executable).parent
    path = [str(installed.bin), *(p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p) != here)]
    return {
        "PATH": os.pathsep.join(path),
        "PYTHONPATH": "",  # nothing of the checkout
        "SHOPDESK_DATABASE_URL": DATABASE_URL.render_as_string(hide_password=False),  # compose: the postgres service
        "SHOPDESK_REDIS_URL": REDIS_URL,  # .env: the redis service
        "SHOPDESK_DATA_DIR": str(data_dir),  # the shopdesk-data volume
        "HOSTNAME": socket.gethostname(),  # Docker sets it; the worker's healthcheck names its node with it
    }


def test_the_wheel_is_what_runs_and_carries_every_file(installed: Installed, tmp_path: Path):
    probe = (
        "import json, app, app.pages, app.shop.service, migrations, moderation.classifier as m\n"
        "print(json.dumps({'app': app.__file__, 'web': str(app.pages.WEB_DIR), 'migrations': migrations.__file__,"
        " 'demo': str(app.shop.service.DEMO_DIR), 'corpus': len(m.load_corpus(m.CORPUS / 'train.jsonl')),"
        " 'cold': len(m.load_cold('dev')), 'data': str(m.DATA)}))"
    )
    result = installed.run(str(installed.bin / "python"), "-c", probe, env=_env(installed, tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    for key in ("app", "web", "migrations", "demo", "data"):
        assert Path(found[key]).is_relative_to(installed.site), f"{key} came from {found[key]}, not the wheel"
    assert found["corpus"] > 100 and found["cold"] > 1000  # the moderation model's corpora, from the wheel
    for package in PACKAGES:  # every file of the source folders ships (a suffix missing from package-data)
        missing = _files(ROOT, package) - _files(installed.site, package)
        assert not missing, f"not in the wheel: {sorted(missing)[:10]}"


def _files(root: Path, package: str) -> set[str]:
    found = (root / package).rglob("*")
    return {str(p.relative_to(root)) for p in found if p.is_file() and "__pycache__" not in p.parts}


@dataclass
class Deployment:
    installed: Installed
    env: dict[str, str]
    workdir: Path  # the image's working directory: empty, and not writable for the image's user
    logs: Path
    running: dict[str, ShopdeskProcess]

    @property
    def api(self) -> ShopdeskProcess:
        return self.running["api"]

    def service(self, name: str) -> ShopdeskProcess:
        """The compose service's command as a process here, not yet started."""
        return ShopdeskProcess(compose.command(name, self.env), self.env, self.logs / f"{name}.log", [], self.workdir)

    def healthcheck(self, name: str, port: int = 0) -> subprocess.CompletedProcess[str]:
        argv = compose.healthcheck(name, self.env)
        if port:
            argv = _on_port(argv, f"127.0.0.1:{compose.container_port(name)}", f"127.0.0.1:{port}")
        return self.installed.run(*argv, env=self.env, cwd=self.workdir)


def _on_port(argv: list[str], container: str, here: str) -> list[str]:
    """The container's port mapped to a free one here, as `ports:` maps it (the argv must name it)."""
    assert any(container in word for word in argv), f"{container!r} not in {argv}: the port mapping is out of date"
    return [word.replace(container, here) for word in argv]


@pytest.fixture(scope="module")
def deployment(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The api as compose starts it (its `--migrate` migrates this module's empty database), and the worker
    and beat beside it; the trainer (profile gpu) is started by the test that needs it."""
    root = tmp_path_factory.mktemp("compose")
    workdir, logs = root / "srv-shopdesk", root / "logs"
    workdir.mkdir()
    logs.mkdir()
    env = _env(installed, root / "data")
    api = ShopdeskProcess([], env, logs / "api.log", [], workdir)
    api.command = _on_port(compose.command("api", env), f"--port {compose.container_port('api')}", f"--port {api.port}")
    deployment = Deployment(installed, env, workdir, logs, {"api": api})
    try:
        _admin(env["SHOPDESK_DATABASE_URL"], 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"')
        redis.Redis.from_url(REDIS_URL).flushdb()
        # The models folder is the suite's: the moderation model is trained there once, not in each api process.
        prepared = installed.run("shopdesk", "prepare-models", "--skip-llm", env=env, cwd=workdir)
        assert prepared.returncode == 0, prepared.stderr
        api.start()
        for name in ("worker", "beat"):
            deployment.running[name] = deployment.service(name)
            deployment.running[name].start(wait_for_http=False)
        yield deployment
    finally:
        for process in deployment.running.values():  # all at once: each takes seconds to shut down
            if process.process is not None:
                process.process.terminate()
        for process in deployment.running.values():
            process.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
        _admin(env["SHOPDESK_DATABASE_URL"], 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_the_api_migrates_serves_pages_and_answers_a_customer(deployment: Deployment):
    base = deployment.api.url
    ready = httpx.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok" and ready.json()["checks"]["schema"] == "ok"
    health = deployment.healthcheck("api", deployment.api.port)
    assert health.returncode == 0, health.stderr

    # The shop page with the widget's script and its stylesheets, served from the installed web/ package.
    page = httpx.get(f"{base}/", timeout=30)
    assert page.status_code == 200, page.text
    assets = re.findall(r'(?:src|href)="/static/([^"?]+)', page.text)
    assert "widget.js" in assets and "shop.css" in assets, assets
    for name in [*assets, "widget.css"]:  # widget.js adds widget.css to the page itself
        served = httpx.get(f"{base}/static/{name}", timeout=10)
        assert served.status_code == 200, name
        assert served.content == (ROOT / "web" / name).read_bytes(), name

    # One customer turn, through moderation, grounding and the reply decision.
    opened = httpx.post(f"{base}/api/v1/conversations", json={}, timeout=30)
    assert opened.status_code == 201, opened.text
    conversation = opened.json()
    turn = httpx.post(
        f"{base}/api/v1/conversations/{conversation['id']}/messages",
        data={"text": "How long does shipping take?"},
        headers={"Authorization": f"Bearer {conversation['token']}"},
        timeout=60,
    )
    assert turn.status_code == 201, turn.text
    reply = turn.json()["reply"]
    assert reply["status"] in ("sent", "pending_review") and reply["text"]
    # `--workers` processes log too (the operator's only record of requests), in the configured format.
    line = f'"POST /api/v1/conversations/{conversation["id"]}/messages HTTP/1.1" 201'
    wait_until(lambda: line in deployment.api.log.read_text(), 10, "the api's access log has no line for the turn")


def test_the_worker_answers_its_healthcheck(deployment: Deployment):
    log = deployment.logs / "worker.log"
    wait_until(lambda: b" ready." in log.read_bytes(), 60, f"the worker did not start (see {log})")
    health = deployment.healthcheck("worker")
    assert health.returncode == 0, health.stdout + health.stderr


def test_a_training_run_is_queued_to_the_trainer_and_runs_there(deployment: Deployment):
    """The api queues the run in Redis; the trainer's command (profile gpu; this run stops at its dataset
    stage, so no GPU is needed) takes it from the `training` queue and runs it."""
    created = deployment.installed.run(
        "shopdesk", "user", "create", "--role", "admin", "--email", ADMIN["email"], "--json",
        env={**deployment.env, "SHOPDESK_NEW_USER_PASSWORD": ADMIN["password"]}, cwd=deployment.workdir,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    base = deployment.api.url
    token = httpx.post(f"{base}/api/v1/auth/login", json=ADMIN, timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = httpx.post(f"{base}/api/v1/training/runs", headers=headers, timeout=30)
    assert started.status_code == 202 and started.json()["queued"] is True, started.text
    run_url = f"{base}/api/v1/training/runs/{started.json()['id']}"

    trainer = deployment.service("trainer")
    trainer.start(wait_for_http=False)
    try:
        wait_until(lambda: httpx.get(run_url, headers=headers).json()["status"] != "queued", 90,
                   f"the trainer did not take the run (see {trainer.log})")  # fmt: skip
        wait_until(lambda: httpx.get(run_url, headers=headers).json()["finished_at"] is not None, 60,
                   "the run did not end")  # fmt: skip
    finally:
        trainer.stop()
    run = httpx.get(run_url, headers=headers).json()
    # A fresh shop has no approved turns to train on: the trainer ran it and it stopped there, saying so.
    assert run["status"] == "failed" and run["stage"] == "dataset" and "approved or sent turns" in run["error"]


def test_beat_keeps_running_and_nothing_is_written_to_the_working_directory(deployment: Deployment):
    schedule = Path(deployment.env["SHOPDESK_DATA_DIR"])
    wait_until(lambda: any(schedule.glob("celerybeat-schedule*")), 30, "beat wrote no schedule under the data folder")
    for name, service in deployment.running.items():
        assert service.process is not None and service.process.poll() is None, f"{name} exited: see {service.log}"
    # In the image the working directory belongs to root and the processes run as `shopdesk`.
    assert not list(deployment.workdir.iterdir())
