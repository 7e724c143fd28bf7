"""Real processes the fault tests stop, start and kill: a second Redis and a second PostgreSQL on ports of
their own (the suite's servers are never touched), `shopdesk serve` and `shopdesk worker` as processes, and a
TCP proxy in front of a real server that can be made slow or refuse connections."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll `check` until it holds; fail with `what` (phrased as the failure) once `timeout` s have passed.

    The one way the tests wait: on the condition itself, never a sleep that guesses how long it takes.
    """
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:g} s")
        time.sleep(interval)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _dies_with_parent(argv: list[str]) -> list[str]:
    """The command, killed when the process that started it dies, even by SIGKILL (util-linux's setpriv)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", *argv] if setpriv else argv


class RedisInstance:
    """redis-server on a port of its own, in the foreground of a child process; keeps nothing on disk and
    goes with the test process however that ends."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (scripts/services.sh installs it)"
        self._process = subprocess.Popen(
            _dies_with_parent(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _listening(self.port), 20, "redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        wait_until(lambda: not _listening(self.port), 10, "redis-server did not stop")


class PostgresInstance:
    """A PostgreSQL cluster of its own (initdb into a temporary folder), started and stopped with pg_ctl."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="shopdesk-pg-"))
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = _postgres_bin()

    def _run(self, *args: str) -> None:
        # PostgreSQL refuses to run as root: as root, run it as the postgres user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(self._bin / "initdb"), "-D", str(self.folder / "data"), "-U", "postgres", "--auth=trust")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-o", options, "-w", "-l",
                  str(self.folder / "log"), "start")  # fmt: skip

    def stop(self) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    assert versions, "PostgreSQL's server binaries are needed (Debian's postgresql package)"
    return versions[-1].parent


class FaultProxy:
    """A TCP proxy to a real server that can be made slow (each connection waits `delay_s` before its bytes
    go through) or down (connections are refused), from the test's thread."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.delay_s = 0.0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault-proxy")
        self._thread.start()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, coroutine) -> None:  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def up(self) -> None:
        async def start() -> None:
            if self._server is None:
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

        self._call(start())

    def down(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None

        self._call(stop())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(self.delay_s)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


class ShopdeskProcess:
    """`shopdesk serve` or `shopdesk worker` as a child process with its own settings; killed without mercy
    when a test wants it to crash.

    By default this checkout's `python -m app.cli` runs `command` here; with `program=[]` the command is a
    whole command line of its own (an installed `shopdesk`, `sh -c …`), run in `cwd`.
    """

    def __init__(
        self, command: list[str], env: dict[str, str], log: Path, program: list[str] | None = None, cwd: Path = ROOT
    ) -> None:
        self.command, self.env, self.log, self.cwd = command, env, log, cwd
        self.program = [sys.executable, "-m", "app.cli"] if program is None else program
        self.process: subprocess.Popen[bytes] | None = None
        self.port = free_port()

    @classmethod
    def serve(cls, env: dict[str, str], log: Path) -> ShopdeskProcess:
        process = cls([], env, log)
        process.command = ["serve", "--host", "127.0.0.1", "--port", str(process.port)]
        return process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_for_http: bool = True) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*self.program, *self.command],
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if wait_for_http:
            wait_until(self._healthy, 60, f"{' '.join(self.command)} did not answer /healthz (see {self.log})")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{' '.join(self.command)} exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up, no finally blocks, as when a host dies or the OOM killer strikes."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
