"""A local PostgreSQL + PostGIS cluster in a directory of the project.

Why our own cluster rather than the system service: the demo and the tests must run on a fresh
machine with one command, without touching ``/etc/postgresql`` or needing a password. The
cluster listens on loopback only, on a port of its own, with scram passwords.

PostgreSQL refuses to run as root. When the caller is root, every server-side command
(``initdb``, ``pg_ctl``) runs as an unprivileged OS account (``DatabaseSettings.os_user``, created
if missing) which owns the cluster directory; clients connect over TCP as usual.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import ConfigurationError, DatabaseUnavailable
from gis.messages import msg

if TYPE_CHECKING:
    from gis.settings import Settings

_PG_LIB = Path("/usr/lib/postgresql")


def find_pg_bin(explicit: Path | None = None) -> Path:
    """Directory of ``initdb``/``pg_ctl`` for the newest PostgreSQL that has PostGIS."""
    if explicit is not None:
        if not (explicit / "pg_ctl").exists():
            raise ConfigurationError(msg("db.no_pg_ctl", path=explicit))
        return explicit
    candidates = sorted(
        (p for p in _PG_LIB.glob("*/bin") if (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bin_dir in candidates:
        version = bin_dir.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return bin_dir
    raise ConfigurationError(msg("db.no_postgis"))


@dataclass(frozen=True)
class ClusterStatus:
    initialized: bool
    running: bool
    port: int
    data_dir: Path
    pid: int | None = None

    def describe(self) -> str:
        if not self.initialized:
            return f"not initialized ({self.data_dir})"
        state = f"running (pid {self.pid})" if self.running else "stopped"
        return f"{state} on 127.0.0.1:{self.port}, data in {self.data_dir}"


class LocalCluster:
    """Lifecycle of the embedded cluster: ``up`` (init + start + database), ``down``,
    ``status`` and ``reset``. Every method is idempotent."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        db_name: str = "onemap",
        db_user: str = "onemap",
        os_user: str = "postgres",
        pg_bin: Path | None = None,
    ) -> None:
        self.root = Path(data_dir)
        self.pgdata = self.root / "pg"
        self.password_file = self.root / "password"
        self.log_file = self.root / "postgres.log"
        self.port = port
        self.db_name = db_name
        self.db_user = db_user
        self._os_user_name = os_user
        self._pg_bin_explicit = pg_bin

    # -- public API -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of the cluster's application database."""
        return (
            f"postgresql+psycopg://{self.db_user}:{self._password()}"
            f"@127.0.0.1:{self.port}/{self.db_name}"
        )

    def status(self) -> ClusterStatus:
        initialized = (self.pgdata / "PG_VERSION").exists()
        pid = self._running_pid() if initialized else None
        return ClusterStatus(initialized, pid is not None, self.port, self.root, pid)

    def up(self) -> ClusterStatus:
        """Initialize if needed, start if stopped, and make sure the database has PostGIS."""
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self._running_pid() is None:
            self._start()
        self._ensure_database()
        return self.status()

    def down(self) -> ClusterStatus:
        if self._running_pid() is not None:
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
        return self.status()

    def reset(self) -> ClusterStatus:
        """Stop and delete the cluster, then create it again empty."""
        self.down()
        if self.root.exists():
            shutil.rmtree(self.root)
        return self.up()

    # -- internals --------------------------------------------------------------------------

    @property
    def pg_bin(self) -> Path:
        return find_pg_bin(self._pg_bin_explicit)

    def _password(self) -> str:
        if not self.password_file.exists():
            raise DatabaseUnavailable(msg("db.not_initialized", root=self.root))
        return self.password_file.read_text().strip()

    def _server_user(self) -> pwd.struct_passwd | None:
        """The account that runs the server: None means 'the caller', which is fine unless
        the caller is root."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(self._os_user_name)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 self._os_user_name],
                check=True, capture_output=True,
            )
            return pwd.getpwnam(self._os_user_name)

    def _run_server_cmd(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        user = self._server_user()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        kwargs: dict = {"capture_output": True, "text": True, "env": env, "cwd": "/"}
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
            env["HOME"] = user.pw_dir if os.path.isdir(user.pw_dir) else "/tmp"
        proc = subprocess.run(args, **kwargs)
        if check and proc.returncode != 0:
            failed = {"program": Path(args[0]).name, "code": proc.returncode,
                      "output": (proc.stderr or proc.stdout).strip()[-2000:]}
            log = self._log_tail()
            raise DatabaseUnavailable(msg("db.command_failed_log", log=log, **failed) if log
                                      else msg("db.command_failed", **failed))
        return proc

    def _log_tail(self) -> str:
        """The server log's last lines ("" when there is none)."""
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            return ""
        return "\n".join(lines)

    def _initdb(self) -> None:
        user = self._server_user()
        self.root.mkdir(parents=True, exist_ok=True)
        if user is not None:
            self._check_reachable(user)
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # a half-made cluster from an interrupted init
        self.pgdata.mkdir(mode=0o700)
        self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        self.password_file.chmod(0o600)
        pwfile = self.root / ".initdb-pw"
        pwfile.write_text(self._password() + "\n")
        if user is not None:
            for path in (self.pgdata, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.log_file.touch()
            os.chown(self.log_file, user.pw_uid, user.pw_gid)
        try:
            self._run_server_cmd([
                str(self.pg_bin / "initdb"), "-D", str(self.pgdata), "-U", self.db_user,
                f"--pwfile={pwfile}", "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "fsync = on\n"
                "max_connections = 100\n"
                "shared_buffers = '256MB'\n"
                "work_mem = '32MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "max_wal_size = '2GB'\n"
                # A local single-node cluster: no replication, so bulk loads into a table
                # truncated in the same transaction skip the WAL entirely.
                "wal_level = minimal\n"
                "max_wal_senders = 0\n"
                "timezone = 'UTC'\n"
            )

    def _check_reachable(self, user: pwd.struct_passwd) -> None:
        """The server account must be able to reach the data directory through every
        parent; a clone under /root is not, and the error from initdb would be obscure."""
        for parent in reversed(self.root.parents):
            mode = parent.stat().st_mode
            if parent.stat().st_uid != user.pw_uid and not mode & 0o001:
                raise ConfigurationError(
                    msg("db.not_traversable", parent=parent, user=user.pw_name))

    def _start(self) -> None:
        self._port_must_be_free()
        self._pg_ctl(
            "start", "-w", "-t", "60", "-l", str(self.log_file),
            "-o", f"-p {self.port}",
        )

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return self._run_server_cmd([str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), *args])

    def _running_pid(self) -> int | None:
        proc = self._run_server_cmd(
            [str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), "status"], check=False
        )
        if proc.returncode != 0:
            return None
        match = re.search(r"PID: (\d+)", proc.stdout)
        return int(match.group(1)) if match else None

    def _port_must_be_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise DatabaseUnavailable(msg("db.port_in_use", port=self.port)) from exc

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        conninfo = dict(host="127.0.0.1", port=self.port, user=self.db_user,
                        password=self._password(), connect_timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (self.db_name,)
                    ).fetchone()
                    if not exists:
                        conn.execute(
                            sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.db_name))
                        )
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        with psycopg.connect(dbname=self.db_name, autocommit=True, **conninfo) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def cluster_from_settings(settings: Settings) -> LocalCluster:
    return LocalCluster(
        data_dir=settings.database.data_dir,
        port=settings.database.port,
        db_name=settings.database.name,
        db_user=settings.database.user,
        os_user=settings.database.os_user,
        pg_bin=settings.database.pg_bin,
    )
