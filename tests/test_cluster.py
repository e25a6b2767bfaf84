"""Lifecycle of the embedded cluster, as the caller runs it (root in CI)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
from pathlib import Path

import psycopg
import pytest

from gis.db.cluster import LocalCluster
from gis.errors import DatabaseUnavailable
from tests.conftest import free_port, make_tmp_dir


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


@pytest.fixture
def cluster():
    root = make_tmp_dir("onemap-cluster-")
    c = LocalCluster(root / "data", free_port())
    yield c
    c.down()
    shutil.rmtree(root, ignore_errors=True)


def _connect(c: LocalCluster):
    return psycopg.connect(c.url.replace("postgresql+psycopg://", "postgresql://"))


def test_up_status_down_up_reset(cluster: LocalCluster) -> None:
    assert not cluster.status().initialized

    status = cluster.up()
    assert status.initialized and status.running and status.pid
    if os.geteuid() == 0:
        # PostgreSQL refuses root: the server must run as the unprivileged account.
        assert _uid_of(status.pid) != 0
    with _connect(cluster) as conn:
        assert conn.execute("SELECT postgis_version()").fetchone()[0].startswith("3")
        conn.execute("CREATE TABLE keep_me (x int)")
        conn.commit()

    assert cluster.up().pid == status.pid  # idempotent: already running, untouched

    stopped = cluster.down()
    assert stopped.initialized and not stopped.running
    assert cluster.down().running is False  # idempotent

    cluster.up()  # restart reuses the data
    with _connect(cluster) as conn:
        assert conn.execute("SELECT to_regclass('keep_me')").fetchone()[0] == "keep_me"

    cluster.reset()
    with _connect(cluster) as conn:
        assert conn.execute("SELECT to_regclass('keep_me')").fetchone()[0] is None


def test_listens_on_loopback_only(cluster: LocalCluster) -> None:
    cluster.up()
    settings = (cluster.pgdata / "postgresql.auto.conf").read_text()
    assert "listen_addresses = '127.0.0.1'" in settings
    with _connect(cluster) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"


def test_port_in_use_is_a_clear_error(cluster: LocalCluster) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", cluster.port))
        blocker.listen()
        with pytest.raises(DatabaseUnavailable, match="in use"):
            cluster.up()


def test_url_before_init_says_what_to_do(cluster: LocalCluster) -> None:
    with pytest.raises(DatabaseUnavailable, match="gis db up"):
        _ = cluster.url


def _executable_by(user: pwd.struct_passwd, path: str) -> bool:
    """Whether ``user`` can reach and execute/enter ``path`` (every parent traversable)."""
    import subprocess

    proc = subprocess.run(["test", "-x", path], user=user.pw_uid, group=user.pw_gid,
                          extra_groups=[], check=False)
    return proc.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="the caller is already unprivileged: the "
                    "other lifecycle tests cover this case")
def test_lifecycle_as_an_unprivileged_caller(tmp_path: Path) -> None:
    """The same code path run by a non-root user (the server then runs as that user)."""
    import subprocess
    import sys
    import sysconfig

    user = pwd.getpwnam("nobody")
    # The venv's interpreter may live under /root (pyenv), which nobody can enter; Debian's
    # own python3 of the same minor version can use the venv's packages instead.
    python = sys.executable
    if not _executable_by(user, python):
        python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = sysconfig.get_paths()["purelib"]
    if not (_executable_by(user, python) and _executable_by(user, site_packages)):
        pytest.skip(f"{user.pw_name} cannot reach a Python with the project's packages "
                    f"({python}, {site_packages}): this checkout lives where only root can go")
    root = make_tmp_dir("onemap-nonroot-")
    # A copy of the package, so the test works wherever the checkout lives.
    shutil.copytree(Path(__file__).resolve().parent.parent / "gis", root / "src" / "gis")
    os.chown(root, user.pw_uid, user.pw_gid)
    script = (
        "from pathlib import Path; from gis.db.cluster import LocalCluster;"
        f"c = LocalCluster(Path('{root}') / 'data', {free_port()});"
        "s = c.up(); print('up', s.running);"
        "import psycopg; conn = psycopg.connect(c.url.replace('+psycopg', ''));"
        "print('postgis', conn.execute('select postgis_version()').fetchone()[0][:1]);"
        "conn.close(); print('down', c.down().running)"
    )
    try:
        proc = subprocess.run(
            [python, "-c", script], capture_output=True, text=True, timeout=120,
            user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd=str(root),
            env={"PATH": os.environ["PATH"], "HOME": str(root),
                 "PYTHONPATH": f"{root / 'src'}:{site_packages}"},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.split() == ["up", "True", "postgis", "3", "down", "False"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
