"""The real ``gis`` executable in a subprocess: usage and library errors are one message and
exit code 2, never a traceback. (typer's ``CliRunner`` bypasses ``gis.cli.main``, which is
how usage errors once became tracebacks with every test green.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gis.settings import Settings
from tests.conftest import free_port

GIS = Path(sys.executable).with_name("gis")


def run_gis(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    assert GIS.exists(), f"{GIS} is missing: the project is not installed in this venv"
    return subprocess.run([str(GIS), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", "GIS_LANG": "en", **(env or {})})


def assert_usage_error(proc: subprocess.CompletedProcess, *expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert "Usage: gis" in proc.stderr, proc.stderr
    for text in expected:
        assert text in proc.stderr, (text, proc.stderr)


def assert_one_line_error(proc: subprocess.CompletedProcess, *expected: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error ("), proc.stderr
    for text in expected:
        assert text in proc.stderr, (text, proc.stderr)


def test_unknown_command() -> None:
    assert_usage_error(run_gis("bogus"), "No such command 'bogus'")


def test_missing_argument() -> None:
    assert_usage_error(run_gis("reconcile", "detect"), "Missing argument", "division")


def test_bad_option_value() -> None:
    assert_usage_error(
        run_gis("reserve", "draw", "640202100201", "--project", "P", "--area-mu", "abc",
                "--purpose", "key_industry"), "Invalid value", "--area-mu")


def test_unknown_option() -> None:
    assert_usage_error(run_gis("layers", "--bogus"), "No such option", "--bogus")


def test_help_exits_zero() -> None:
    proc = run_gis("--help")
    assert proc.returncode == 0 and "Usage: gis" in proc.stdout


def test_unknown_layer(settings: Settings, engine) -> None:
    assert_one_line_error(run_gis("export", "no_such_layer", "-o", "/tmp/x.gpkg"),
                          "Unknown layer", "no_such_layer")


def test_missing_file(settings: Settings, engine, tmp_path: Path) -> None:
    missing = tmp_path / "absent.gpkg"
    assert_one_line_error(run_gis("load", str(missing), "--layer", "village_plans"),
                          "absent.gpkg")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309"])
def test_non_finite_draw_is_refused(settings: Settings, engine, value: str) -> None:
    proc = run_gis("reserve", "draw", "640202100201", "--project", "P", "--area-mu", value,
                   "--purpose", "key_industry")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "finite" in proc.stderr, proc.stderr


def test_messages_are_chinese_by_default(settings: Settings, engine) -> None:
    """Without GIS_LANG and with a non-English locale, errors are Chinese."""
    proc = run_gis("reserve", "draw", "640202100201", "--project", "P", "--area-mu", "nan",
                   "--purpose", "key_industry",
                   env={"GIS_LANG": "", "LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert proc.returncode == 2
    assert proc.stderr.startswith("错误 (输入无效): --area-mu应为有限数值"), proc.stderr
    down = run_gis("layers", env={"GIS_LANG": "zh", "GIS_DATABASE_URL":
                                  f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"})
    assert down.returncode == 2 and "无法连接数据库" in down.stderr, down.stderr


def test_database_down() -> None:
    closed = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    proc = run_gis("layers", env={"GIS_DATABASE_URL": closed})
    assert_one_line_error(proc, "Database unavailable", "gis db up")
