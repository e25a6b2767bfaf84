"""Messages of loading, the database and the command line, in both languages.

Real failures are driven through the ``gis`` executable (``GIS_LANG=zh`` and ``GIS_LANG=en``,
as a bureau's terminal and an English one would run it), through the API paths that reach
``gis/layers`` (``Accept-Language``), and through the library; the Chinese carries no English
sentence and the English is the historical text that scripts and tests match on. The progress
bar's stages are catalogue messages too, shown in the terminal's language.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from rich.progress import Progress as RichProgress

from api.app import create_app
from gis import errors
from gis.cli.output import BarProgress
from gis.crs import gauss_kruger_epsg, parse_crs
from gis.db.cluster import LocalCluster
from gis.jobs.progress import JobProgress
from gis.layers.load import LoadOptions, load_file
from gis.messages import Message, _messages, text
from gis.messages import _load as load_yaml
from tests.factories import bowtie, survey_frame, write
from tests.test_messages import english_sentence

GIS = Path(sys.executable).with_name("gis")
HAN = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[1]
OUR_FILES = ("layers.yaml", "db.yaml", "cli_commands.yaml")


def chinese(message: str) -> None:
    """A Chinese message: Chinese characters, and no run of English words."""
    assert HAN.search(message), message
    assert english_sentence(message) is None, (english_sentence(message), message)


# -- the catalogue entries of this area ---------------------------------------------------


def test_every_key_of_this_area_is_used() -> None:
    """Each message of layers/db/cli_commands.yaml is raised or shown somewhere (keys built
    from GEOS's and Python's reasons are looked up by prefix)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "gis").rglob("*.py"))
    dynamic = ("geometry.reason.", "source.decode.")
    for name in OUR_FILES:
        for key in load_yaml(name):
            assert key.startswith(dynamic) or f'"{key}"' in source, (name, key)


def test_reasons_of_other_software_are_named_in_both_languages() -> None:
    from gis.layers.sources import _DECODE_REASONS
    from gis.layers.validation import _REASONS

    keys = _messages()
    for reason, key in _REASONS.items():
        assert keys[f"geometry.reason.{key}"]["en"] == reason
    for reason in _DECODE_REASONS:
        assert keys["source.decode." + reason.replace(" ", "_")]["en"] == reason


# -- gis load and other commands, in a subprocess, in both languages ----------------------


@dataclass(frozen=True)
class Case:
    """A command that fails; what its error line says in each language."""

    args: tuple[str, ...]
    error: type[errors.GISError]
    zh: tuple[str, ...]
    en: tuple[str, ...]
    #: Stage of the progress bar reached before failing: (zh, en).
    stage: tuple[str, str] | None = None
    #: Environment changes (None: unset).
    env: tuple[tuple[str, str | None], ...] = ()
    #: Run the real executable (the loads the users meet most); the others run
    #: ``gis.cli.main()`` in this process, which is the same code without the start-up cost.
    real: bool = False


def _files(d: Path) -> dict[str, Path]:
    good = write(survey_frame(3), d / "good.gpkg")
    noprj = write(survey_frame(3, crs=4543), d / "noprj.shp")
    (d / "noprj.prj").unlink()
    dup = survey_frame(3)
    dup.loc[2, "TBBH"] = dup.loc[0, "TBBH"]
    strict = survey_frame(3)
    strict.loc[2, "geometry"] = bowtie(2)
    points = survey_frame(3)
    points = points.set_geometry(shapely.centroid(points.geometry.to_numpy()), crs=4490)
    metres = survey_frame(3, crs=4544).set_crs(4490, allow_override=True)
    gbk = write(survey_frame(3), d / "gbk.shp", encoding="GBK")
    (d / "gbk.cpg").unlink()
    (d / "notes.kml").write_text("<kml/>", encoding="utf-8")
    return {
        "good": good, "noprj": noprj, "gbk": gbk, "kml": d / "notes.kml",
        "dup": write(dup, d / "dup.gpkg"), "strict": write(strict, d / "bowtie.gpkg"),
        "nodlbm": write(survey_frame(3).drop(columns="DLBM"), d / "nodlbm.gpkg"),
        "points": write(points, d / "points.gpkg"), "metres": write(metres, d / "metres.gpkg"),
    }


def _cases(f: dict[str, Path], d: Path) -> dict[str, Case]:
    def load(name: str, *more: str, layer: str = "survey_patches") -> tuple[str, ...]:
        return ("load", str(f[name]), "--layer", layer, *more)

    reading = ("读取 ", "reading ")
    return {
        "unknown-layer": Case(
            load("good", layer="survey_patchez"), errors.UnknownLayer,
            ("未知图层 'survey_patchez'；现有图层：admin_divisions、eco_redline、",),
            ("unknown layer 'survey_patchez'; known layers: admin_divisions, eco_redline, ",),
            real=True),
        "crs-contradicts-file": Case(
            load("good", "--crs", "EPSG:4543"), errors.CRSMismatch,
            ("文件声明的坐标系为 EPSG:4490，而 --crs 指定的是 EPSG:4543",),
            ("the file declares EPSG:4490 but --crs says EPSG:4543; fix or remove the file's "
             ".prj, or drop --crs",),
            stage=("转换到 EPSG:4490 坐标系", "transforming to EPSG:4490"), real=True),
        "crs-unrecognised": Case(
            load("noprj", "--crs", "NOPE"), errors.MissingCRS,
            ("无法识别的坐标系 'NOPE'",), ("unrecognised CRS 'NOPE': use e.g. EPSG:4490",)),
        "no-crs": Case(
            load("noprj"), errors.MissingCRS, ("数据源没有坐标系", "--crs EPSG:4544"),
            ("the source has no CRS (no .prj or equivalent)",)),
        "metres-as-degrees": Case(
            load("metres"), errors.CoordinatesOutOfRange,
            ("超出经度 ±180、纬度 ±90 的范围", "前几行：[1, 2, 3]"),
            ("3 features have coordinates outside longitude ±180 / latitude ±90",)),
        "missing-required-field": Case(
            load("nodlbm"), errors.FieldMappingError,
            ("图层 survey_patches 需要字段 地类编码（land_use_code）",
             "--field-map SOURCE=land_use_code"),
            ("layer survey_patches needs field land_use_code (地类编码) but the source has none "
             "of ['land_use_code', 'DLBM'",), stage=("字段映射", "mapping fields"), real=True),
        "duplicate-keys": Case(
            load("dup"), errors.DuplicateKey,
            ("编号字段 ['county_code', 'patch_no'] 的取值", "（行号 [1, 3]）", "必须唯一"),
            ("natural key ['county_code', 'patch_no'] repeats within the file for "
             "[('640202', '0001')] (rows [1, 3]); each feature must be unique",),
            stage=("字段映射", "mapping fields"), real=True),
        "invalid-geometry-strict": Case(
            load("strict", "--strict"), errors.InvalidGeometry,
            ("1 个要素的几何图形无效，而 --strict 不允许修复：第 3 行：自相交[",),
            ("1 features have invalid geometry and --strict forbids repair: row 3: "
             "Self-intersection[",), stage=("检查几何图形", "validating geometry"), real=True),
        "points": Case(
            load("points"), errors.WrongGeometryType,
            ("该图层只接受面（多边形）要素，但有 3 个要素是 POINT",),
            ("the layer takes polygons, but 3 features are POINT (first rows: [1, 2, 3])",)),
        "wrong-encoding": Case(
            load("gbk", "--encoding", "UTF-8"), errors.EncodingError,
            ("gbk.shp：文字不是有效的 UTF-8 编码", "字节处", "中文 Shapefile 常用 GBK"),
            ("gbk.shp: text is not valid UTF-8 (", "give the right one with --encoding",),
            stage=reading, real=True),
        "unsupported-format": Case(
            ("load", str(f["kml"]), "--layer", "survey_patches"), errors.UnsupportedFormat,
            ("notes.kml：不支持的格式 .kml",), ("notes.kml: unsupported format .kml; use "
                                          "GeoPackage (.gpkg)",)),
        "missing-file": Case(
            ("load", str(d / "absent.gpkg"), "--layer", "survey_patches"), errors.InputError,
            ("absent.gpkg 不存在",), ("absent.gpkg does not exist",)),
        "bad-set": Case(
            load("good", "--set", "county_code"), errors.GISError,
            ("--set 'county_code' 不是 FIELD=VALUE 形式",),
            ("--set 'county_code' is not FIELD=VALUE",)),
        "export-format": Case(
            ("export", "survey_patches", "-f", "kml", "-o", str(d / "x.kml")),
            errors.UnsupportedFormat, ("未知的导出格式 'kml'，请使用 ['geojson', 'gpkg', ",),
            ("unknown export format 'kml'; use one of ['geojson', 'gpkg', 'shp', 'xlsx']",)),
        "area-twice": Case(
            ("reserve", "draw", "640202100201", "--project", "P", "--purpose", "key_industry"),
            errors.InputError, ("面积只能给出一次",),
            ("give the area once: --area-m2 or --area-mu",)),
        "bad-date": Case(
            ("reserve", "draw", "640202100201", "--project", "P", "--purpose", "key_industry",
             "--area-m2", "10", "--date", "yesterday"), errors.InputError,
            ("--date 'yesterday' 不是 YYYY-MM-DD 格式的日期",),
            ("--date 'yesterday' is not YYYY-MM-DD",)),
        "ledger-needs-village": Case(
            ("reserve", "ledger"), errors.InputError, ("请给出村庄（村庄代码）",),
            ("name the village (its code), or list invalid rows with --invalid",)),
        "no-dem": Case(
            ("terrain", "stats", str(f["good"])), errors.ConfigurationError,
            ("没有数字高程模型（DEM）",), ("no DEM: pass --dem or set GIS_DEM_PATH",),
            env=(("GIS_DEM_PATH", None),)),
        "db-down-external": Case(
            ("db", "down"), errors.GISError, ("GIS_DATABASE_URL 指向外部数据库",),
            ("GIS_DATABASE_URL points at an external database: nothing to stop",),
            env=(("GIS_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nothing"),)),
        "too-many-parcels": Case(
            ("samples", "scale", "--parcels", "100000000000", "-o", str(d / "scale.gpkg")),
            errors.InputError, ("宁夏范围内容纳不下 100,000,000,000 个图斑",),
            ("100,000,000,000 parcels do not fit in Ningxia's extent",)),
    }


def _run(args: tuple[str, ...], lang: str, changes: dict[str, str | None]
         ) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "GIS_LANG": lang, **changes}
    return subprocess.run([str(GIS), *args], capture_output=True, text=True, timeout=180,
                          env={k: v for k, v in env.items() if v is not None})


def _run_here(args: tuple[str, ...], lang: str, changes: dict[str, str | None],
              capsys) -> subprocess.CompletedProcess:
    """``gis.cli.main()`` in this process, with its own environment and settings."""
    import gis.cli
    from gis.settings import get_settings

    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIS_LANG", lang)
        for name, value in changes.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        patch.setattr(sys, "argv", ["gis", *args])
        get_settings.cache_clear()
        with pytest.raises(SystemExit) as info:
            gis.cli.main()
    get_settings.cache_clear()  # the settings of the restored environment from now on
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, info.value.code, out.out, out.err)


@pytest.fixture(scope="module")
def workspace(settings, engine, tmp_path_factory) -> tuple[dict[str, Case], dict]:
    """The cases, with the real executable's runs done (two processes at a time: each
    pays the start-up of the data stack)."""
    d = tmp_path_factory.mktemp("messages-layers")
    cases = _cases(_files(d), d)
    jobs = [(name, lang) for name, case in cases.items() if case.real for lang in ("zh", "en")]
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda job: _run(cases[job[0]].args, job[1], dict(cases[job[0]].env)),
                        jobs)
        return cases, dict(zip(jobs, done, strict=True))


CASES = list(_cases({k: Path(k) for k in (
    "good", "noprj", "gbk", "kml", "dup", "strict", "nodlbm", "points", "metres")}, Path(".")))


@pytest.mark.parametrize("name", CASES)
def test_command_errors_in_both_languages(workspace, capsys, name: str) -> None:
    cases, real_runs = workspace
    case = cases[name]
    procs = {lang: real_runs[(name, lang)] if case.real else _run_here(
        case.args, lang, dict(case.env), capsys) for lang in ("zh", "en")}
    for lang, prefix in (("zh", "错误"), ("en", "error")):
        proc = procs[lang]
        assert proc.returncode == 2, (lang, proc.stderr)
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
        head = f"{prefix} ({case.error.title_in(lang)}): "
        lines = [line for line in proc.stderr.splitlines() if line.startswith(head)]
        assert len(lines) == 1, (lang, proc.stderr)
        message = lines[0][len(head):]
        for fragment in getattr(case, lang):
            assert fragment in message, (lang, fragment, message)
        if lang == "zh":
            chinese(message)
        else:
            assert case.error.title_in("en") == case.error.title
        if case.stage:
            assert case.stage[0 if lang == "zh" else 1] in proc.stderr, (lang, proc.stderr)
    zh_stderr, en_stderr = procs["zh"].stderr, procs["en"].stderr
    for english_stage in ("reading ", "mapping fields", "validating geometry"):
        assert english_stage not in zh_stderr, zh_stderr
    for chinese_stage in ("读取 ", "字段映射", "检查几何图形"):
        assert chinese_stage not in en_stderr, en_stderr


# -- the API paths that reach gis/layers --------------------------------------------------


def test_api_messages_from_the_layers_in_both_languages(settings, engine, role_keys) -> None:
    with TestClient(create_app(settings)) as client:
        def both(method: str, path: str, **kw) -> tuple[dict, dict]:
            headers = kw.pop("headers", {})
            zh = client.request(method, path, headers=headers, **kw)
            en = client.request(method, path, headers={**headers, "Accept-Language": "en"},
                                **kw)
            assert zh.status_code == en.status_code >= 400, (path, zh.text)
            return zh.json(), en.json()

        zh, en = both("get", "/portal/api/search", params={"q": "   "})
        assert zh["detail"] == "搜索内容为空：请输入名称或编号的一部分"
        assert en["detail"] == "the search text is empty: type part of a name or number"

        zh, en = both("get", "/ogc/collections/no_such_layer/items")
        assert zh["detail"].startswith("未知图层 'no_such_layer'；现有图层：admin_divisions、")
        assert en["detail"].startswith("unknown layer 'no_such_layer'; known layers: ")
        chinese(zh["detail"])

        feature = (b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   b'"properties": {}, "geometry": {"type": "Polygon", "coordinates": '
                   b'[[[106.3, 39.0], [106.31, 39.0], [106.31, 39.01], [106.3, 39.0]]]}}]}')
        upload = {"content": feature, "headers": {"Content-Type": "application/octet-stream"}}
        zh, en = both("post", "/api/v1/footprints/parse",
                      params={"filename": "f.geojson", "crs": "NOPE"}, **upload)
        chinese(zh["detail"])
        for body in (zh, en):
            assert "'NOPE'" in body["detail"]
        assert en["detail"].startswith("unrecognised CRS 'NOPE'")
        assert not HAN.search(en["detail"] + en["title"])


# -- the library: messages that commands reach rarely -------------------------------------


def _both(error: errors.GISError) -> tuple[str, str]:
    return error.render("zh"), error.render("en")


def test_crs_and_database_messages() -> None:
    with pytest.raises(errors.MissingCRS) as bad:
        parse_crs("EPSG:0")
    zh, en = _both(bad.value)
    chinese(zh)
    assert en == str(bad.value) and en.startswith("unrecognised CRS 'EPSG:0': use e.g.")
    with pytest.raises(errors.CoordinatesOutOfRange) as far:
        gauss_kruger_epsg(10.0)
    zh, en = _both(far.value)
    assert zh == "经度 10.0 不在中国的高斯-克吕格投影带范围内"
    assert en == "longitude 10.0 is outside China's Gauss-Kruger zones"


def test_cluster_messages(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster = LocalCluster(tmp_path / "c", port)
        with pytest.raises(errors.DatabaseUnavailable) as busy:
            cluster._port_must_be_free()
    zh, en = _both(busy.value)
    assert zh == f"127.0.0.1 上的端口 {port} 已被其他程序占用；请将 GIS_DB_PORT 设为空闲端口"
    assert en == f"port {port} on 127.0.0.1 is in use by another program; set GIS_DB_PORT to a " \
                 "free port"
    with pytest.raises(errors.DatabaseUnavailable) as fresh:
        cluster.url  # noqa: B018 (the password of a cluster never initialized)
    zh, en = _both(fresh.value)
    chinese(zh)
    assert "`gis db up`" in zh and en.endswith("is not initialized: run `gis db up`")


# -- progress stages --------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.stages: list[object] = []

    def stage(self, description, total=None) -> None:
        self.stages.append(description)

    def advance(self, steps: int = 1) -> None:
        pass


def test_load_stages_are_catalogue_messages(clean_db, tmp_path: Path) -> None:
    recorder = Recorder()
    path = write(survey_frame(3), tmp_path / "[draft].gpkg", layer="survey_patches")
    load_file(clean_db, path, "survey_patches", LoadOptions(), recorder)
    assert all(isinstance(s, Message) for s in recorder.stages), recorder.stages
    zh = [s.render("zh") for s in recorder.stages]
    assert zh[:3] == ["读取 [draft].gpkg", "字段映射", "检查几何图形"]
    for stage in zh:
        chinese(stage)
    assert [s.render("en") for s in recorder.stages][:3] == [
        "reading [draft].gpkg", "mapping fields", "validating geometry"]


@pytest.mark.parametrize(("lang", "reading", "done"), [("zh", "读取 [a].gpkg", "完成"),
                                                      ("en", "reading [a].gpkg", "done")])
def test_progress_bar_shows_stages_in_the_terminal_language(lang, reading, done) -> None:
    from gis.messages import msg

    with RichProgress(disable=True) as rich:
        bar = BarProgress(rich, lang)
        bar.stage(msg("load.stage.reading", name="[a].gpkg"))
        bar.stage("a plain string", 2)
        bar.finish()
        shown = [t.description for t in rich.tasks]
    # Descriptions are rich markup: a file name in brackets is escaped, not swallowed.
    assert shown == [reading.replace("[a]", "\\[a]"), "a plain string", done]


def test_job_progress_keeps_a_message_in_chinese() -> None:
    from gis.messages import msg

    job = JobProgress()
    job.stage(msg("load.stage.copying", table="survey_patches"), 3)
    assert job.snapshot().stage == text("load.stage.copying", "zh", table="survey_patches")
    job.stage("checking 3 footprints")
    assert job.snapshot().stage == "checking 3 footprints"
