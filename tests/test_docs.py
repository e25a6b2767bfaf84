"""The user guides (``docs/user-guide.{en,zh}.md``) as executable documentation.

Conventions of the guides' Markdown, which this test enforces:

* ```` ```sh ```` blocks are run, in document order, as one walkthrough on a fresh copy of the
  sample one-map (samples and quota ledger loaded, as ``gis samples load`` does), against a
  live server (``uvicorn`` in its own process, started with ``GIS_RASTER_DIR`` and
  ``GIS_DEM_PATH`` pointing at ``data/samples`` as the guide tells readers to configure), in a
  temporary working directory holding the input files the guide's data-loading examples name
  (``三调.shp``, ``forest.gdb``, ``amap.geojson``: see :func:`make_input_files`) and a link to
  ``data/``. Substitutions: the documented base URL ``http://127.0.0.1:8000`` becomes the
  live server's, ``.gisdata/`` the test cluster's data directory and ``55432`` its port;
  ``$KEY`` and ``$FORESTRY_KEY`` are planner and forestry keys issued for the session.
* ``gis``/``.venv/bin/gis`` commands (optionally preceded by ``VAR=value`` settings) run
  in-process with typer's CliRunner against the test database; ``curl`` (always with ``-f``,
  so any non-2xx answer fails), ``ogrinfo``/``ogr2ogr``, the PostgreSQL client tools and
  ``cat`` (heredocs) run in ``bash -euo pipefail``; ``NAME=...`` and ``export NAME=...``
  lines set variables for the commands after them. Anything else fails the test: a command
  that cannot run in a test belongs in a ```` ```sh norun ```` block.
* An ```` ```output ```` block right after a ``sh`` block is the expected output of that
  block's last command, matched loosely: whitespace is ignored and ``...`` stands for any text;
  the remaining fragments must appear in order.
* The two guides carry the same commands and expected outputs (their comments and prose are
  translated), so running one runs both.

Every URL path either guide (or the README) mentions must be a route of the app.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from starlette.routing import Match
from typer.testing import CliRunner

from gis.settings import Settings, get_settings
from tests.server_fixtures import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
GUIDES = [ROOT / "docs" / "user-guide.en.md", ROOT / "docs" / "user-guide.zh.md"]
README = ROOT / "README.md"
BASE = "http://127.0.0.1:8000"
#: Programs a runnable block may call through bash (gis runs in-process).
SHELL_PROGRAMS = {"curl", "ogrinfo", "ogr2ogr", "pg_dump", "pg_restore", "createdb", "dropdb",
                  "cat"}
GIS = {"gis", ".venv/bin/gis"}
#: A command that only sets a variable: NAME=value, NAME="...", NAME=$(...), export NAME=...
ASSIGNMENT = re.compile(
    r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\$\(.*\)|\"[^\"]*\"|'[^']*'|\S+)$", re.S)
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


# -- reading the guides ------------------------------------------------------------------------


@dataclass
class Block:
    doc: Path
    line: int
    lang: str
    flags: tuple[str, ...]
    text: str

    @property
    def runnable(self) -> bool:
        return self.lang == "sh" and "norun" not in self.flags


@dataclass
class Command:
    doc: Path
    line: int
    text: str
    expected: str | None = None

    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown file (or of ``text``, said to be that file)."""
    blocks, current, start, info = [], None, 0, ""
    source = path.read_text(encoding="utf-8") if text is None else text
    for number, line in enumerate(source.splitlines(), start=1):
        if line.startswith("```"):
            if current is None:
                current, start, info = [], number, line[3:].strip()
            else:
                lang, *flags = info.split() or [""]
                blocks.append(Block(path, start, lang, tuple(flags), "\n".join(current)))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"{path.name}: unclosed code fence from line {start}"
    return blocks


def split_commands(block: Block) -> list[Command]:
    """A block's commands: continuation lines joined, comments and blank lines dropped,
    heredoc bodies kept with their command."""
    lines = block.text.splitlines()
    out, i = [], 0
    while i < len(lines):
        first = i
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text = line
        while text.endswith("\\") and i < len(lines):
            text = text[:-1] + " " + lines[i].strip()
            i += 1
        if heredoc := HEREDOC.search(text):
            body = []
            while i < len(lines) and lines[i] != heredoc.group(2):
                body.append(lines[i])
                i += 1
            assert i < len(lines), f"{block.doc.name}:{block.line}: heredoc without its end"
            text = "\n".join([text, *body, lines[i]])
            i += 1
        out.append(Command(block.doc, block.line + 1 + first, text))
    return out


def walkthrough(path: Path, text: str | None = None) -> list[Command]:
    """The runnable commands of a guide in order, with the expected outputs attached."""
    commands: list[Command] = []
    previous: Block | None = None
    for block in fenced_blocks(path, text):
        if block.lang == "output":
            assert previous is not None and previous.runnable, (
                f"{path.name}:{block.line}: an output block must follow a runnable sh block")
            commands[-1].expected = block.text
        elif block.runnable:
            found = split_commands(block)
            assert found, f"{path.name}:{block.line}: empty sh block"
            commands += found
        previous = block
    return commands


def tokens(text: str) -> list[str] | str:
    """A command as the shell would split it, comments dropped (for comparing the guides)."""
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.strip()


# -- the two guides say the same -----------------------------------------------------------


def _shape(path: Path) -> list[tuple]:
    shape = []
    for block in fenced_blocks(path):
        if block.lang == "sh":
            shape.append(("sh", block.flags, [tokens(c.text) for c in split_commands(block)]))
        elif block.lang == "output":
            shape.append(("output", re.sub(r"\s+", "", block.text)))
    return shape


def test_both_guides_carry_the_same_commands_and_outputs() -> None:
    english, chinese = (_shape(p) for p in GUIDES)
    assert len(english) == len(chinese), "the guides have different numbers of sh/output blocks"
    for number, (a, b) in enumerate(zip(english, chinese, strict=True)):
        assert a == b, f"block {number} differs between the guides:\n{a}\n{b}"
    assert len(walkthrough(GUIDES[0])) > 50


def test_the_reader_recognises_every_construct() -> None:
    """The parser on a made-up guide: norun blocks are skipped, continuation lines joined,
    heredocs kept whole, an output block attached to the last command before it."""
    doc = ROOT / "docs" / "_example.md"
    text = ("```sh norun\nmake run\n```\n\n```sh\n# a comment\ncurl -sf \\\n  http://x/a\n"
            "cat > f.json <<'EOF'\n{\"a\": 1}\n\nEOF\ngis layers  # trailing\n```\n\n"
            "```output\nlayers ... done\n```\n")
    blocks = walkthrough(doc, text)
    assert [c.text for c in blocks] == ["curl -sf  http://x/a",
                                        "cat > f.json <<'EOF'\n{\"a\": 1}\n\nEOF",
                                        "gis layers  # trailing"]
    assert blocks[-1].expected == "layers ... done" and blocks[0].expected is None
    assert matches("layers ... done", "gis\nlayers: 13\nall done") is None
    assert matches("done ... layers", "layers done") == "layers"  # order matters


# -- every path the documentation names is a route ------------------------------------------


#: A URL path as the documentation writes it: ASCII only (Chinese text may follow it without
#: a space), with README's ``[optional|alternative]`` parts and ``{template}`` segments.
_PATH_CHARS = r"[A-Za-z0-9_\-./{}\[\]|?=&%:,*~+]"
PATH_IN_TEXT = re.compile(
    rf"(?<![\w./-])(/(?:api/v1|ogc|health|docs|redoc|siting|reconciliation|quota|static)\b"
    rf"{_PATH_CHARS}*)|http://127\.0\.0\.1:8000(/{_PATH_CHARS}*)?")


def _expand(path: str) -> list[str]:
    """README-style optional parts: ``a[.xlsx]`` -> ``a``, ``a.xlsx``; ``[/x|/y]`` both."""
    match = re.search(r"\[([^\[\]]*)\]", path)
    if not match:
        return [path]
    head, tail = path[:match.start()], path[match.end():]
    return [v for alt in ["", *match.group(1).split("|")] for v in _expand(head + alt + tail)]


def documented_paths(text: str) -> set[str]:
    paths = set()
    for match in PATH_IN_TEXT.finditer(text):
        raw = match.group(1) or match.group(2) or "/"
        for path in _expand(raw):
            path = path.split("?")[0].split("#")[0]
            if not path.endswith("..."):  # an elision, not the end of a sentence
                path = path.rstrip(".,;:*")
            paths.add(path or "/")
    return paths


def _routable(app, path: str) -> bool:
    """Whether the app answers ``path`` (a template: ``{x}`` any segment, ``...`` elided);
    a base URL without its trailing slash (``/ogc``) counts, the app redirects it."""
    concrete = re.sub(r"\{[^}]*\}", "1", path).replace("...", "x/x")
    for candidate in (concrete, concrete.rstrip("/") + "/"):
        scope = {"type": "http", "path": candidate, "method": "GET", "root_path": "",
                 "headers": [], "query_string": b""}
        if any(route.matches(scope)[0] != Match.NONE for route in app.routes):
            return True
    return False


def test_every_documented_path_is_a_route(settings: Settings) -> None:
    from api.app import create_app

    app = create_app(settings)
    for doc in [*GUIDES, README]:
        paths = documented_paths(doc.read_text(encoding="utf-8"))
        assert len(paths) > 5, f"{doc.name}: found only {sorted(paths)}"
        missing = sorted(p for p in paths if not _routable(app, p))
        assert not missing, f"{doc.name} names paths the app does not serve: {missing}"
    assert not _routable(app, "/api/v1/no-such-thing")


def test_readme_gis_commands_name_real_subcommands_and_options() -> None:
    """README's command lines are summaries (``db up | down``, ``[--json]``), not a
    walkthrough on the samples; each variant must at least parse: the subcommands and
    options exist (``--help`` makes click stop before running anything)."""
    from gis.cli import app

    checked = 0
    for block in fenced_blocks(README):
        if block.lang != "sh":
            continue
        for command in split_commands(block):
            words = tokens(command.text)
            if isinstance(words, str) or words[0] not in GIS:
                continue
            for variant in _readme_variants(words[1:]):
                result = CliRunner().invoke(app, [*variant, "--help"])
                assert result.exit_code == 0, (
                    f"README.md:{command.line}: gis {' '.join(variant)}\n{result.output}")
                checked += 1
    assert checked > 20


def _readme_variants(words: list[str]) -> list[list[str]]:
    if "|" in words:  # "db up | down | status": alternatives for the word before the bars
        first = words.index("|")
        head, alternatives = words[:first - 1], words[first - 1::2]
        return [v for alt in alternatives for v in _readme_variants([*head, alt])]
    for i, word in enumerate(words):
        if word.startswith("["):  # an optional part, possibly several words: with and without
            end = next(j for j in range(i, len(words)) if words[j].endswith("]"))
            inside = " ".join(words[i:end + 1])[1:-1].split()
            rest = words[end + 1:]
            return [*_readme_variants(words[:i] + rest),
                    *_readme_variants(words[:i] + inside + rest)]
    return [words]


# -- running the walkthrough -----------------------------------------------------------------


def matches(expected: str, actual: str) -> str | None:
    """None if every ``...``-separated fragment of ``expected`` occurs in ``actual`` in order
    (whitespace ignored), else the first fragment that does not."""
    squeezed = re.sub(r"\s+", "", actual)
    position = 0
    for fragment in expected.split("..."):
        wanted = re.sub(r"\s+", "", fragment)
        if not wanted:
            continue
        found = squeezed.find(wanted, position)
        if found < 0:
            return fragment.strip()
        position = found + len(wanted)
    return None


def make_input_files(folder: Path) -> None:
    """The files the data-loading section names, as they come from the field:

    * ``三调.shp``: a 三调 extract, GBK text without a ``.cpg``, a ``.prj`` in EPSG:4544, the
      survey's field names and no county code;
    * ``forest.gdb``: a forestry FileGDB, layer ``XBDATA``, field names of its own (LBH, XBH
      for 林班/小班) and no CRS (coordinates in EPSG:4544);
    * ``amap.geojson``: a project footprint digitized on AMap (GCJ-02 coordinates).
    """
    import warnings

    import geopandas as gpd
    import pyogrio
    from shapely.geometry import box

    from gis.gcj02 import wgs84_to_gcj02_geometry

    survey = gpd.GeoDataFrame(
        {"TBBH": ["90001", "90002"], "DLBM": ["0103", "0404"], "DLMC": ["旱地", "其他草地"],
         "QSDWMC": ["星海镇星光村村民委员会", "星海镇富民村村民委员会"],
         "ZLDWMC": ["星光村", "富民村"], "TBMJ": [5000.0, 8000.0]},
        geometry=[box(106.600, 38.60, 106.601, 38.6005), box(106.602, 38.60, 106.603, 38.6005)],
        crs="EPSG:4490").to_crs("EPSG:4544")
    pyogrio.write_dataframe(survey, folder / "三调.shp", encoding="GBK")
    (folder / "三调.cpg").unlink(missing_ok=True)
    assert "星光村".encode("gbk") in (folder / "三调.dbf").read_bytes()
    forest = gpd.GeoDataFrame(
        {"LBH": ["090"], "XBH": ["001"], "DI_LEI": ["乔木林地"], "LIN_ZHONG": ["防护林"]},
        geometry=[box(106.61, 38.61, 106.612, 38.611)], crs="EPSG:4490").to_crs("EPSG:4544")
    with warnings.catch_warnings():  # no CRS on purpose: the guide loads it with --crs
        warnings.simplefilter("ignore", UserWarning)
        pyogrio.write_dataframe(forest.set_crs(None, allow_override=True),
                                folder / "forest.gdb", layer="XBDATA", driver="OpenFileGDB")
    amap = gpd.GeoDataFrame(
        {"XMMC": ["星海镇物流园配套道路"], "XMDM": ["2024-640202-54-01-000201"], "HDLB": ["DEV"]},
        geometry=[wgs84_to_gcj02_geometry(box(106.430, 38.950, 106.431, 38.951))],
        crs="OGC:CRS84")
    pyogrio.write_dataframe(amap, folder / "amap.geojson", driver="GeoJSON")


def _curl_calls(words: list[str]) -> list[list[str]]:
    """The arguments of each curl in a command (also inside ``NAME=$(curl ...)``)."""
    calls: list[list[str]] = []
    for word in words:
        if word == "curl" or word.endswith("(curl"):
            calls.append([])
        elif calls:
            calls[-1].append(word)
    return calls


class Walkthrough:
    """Runs a guide's commands one after the other, as a reader at a shell would."""

    def __init__(self, workdir: Path, url: str, settings: Settings,
                 variables: dict[str, str]) -> None:
        self.workdir, self.url, self.settings = workdir, url, settings
        self.variables = dict(variables)
        self.ran: list[str] = []
        self.seconds: list[tuple[float, str]] = []

    def substitute(self, text: str) -> str:
        return (text.replace(BASE, self.url)
                .replace(".gisdata/", f"{self.settings.database.data_dir}/")
                .replace("55432", str(self.settings.database.port)))

    def run(self, command: Command) -> None:
        started = time.monotonic()
        try:
            self._run(command)
        finally:
            self.seconds.append((time.monotonic() - started, command.where()))

    def _run(self, command: Command) -> None:
        text = self.substitute(command.text)
        words = tokens(text)
        assert isinstance(words, list) and words, f"{command.where()}: cannot parse {text!r}"
        first = next((i for i, w in enumerate(words) if "=" not in w), len(words))
        assignments, program = words[:first], words[first] if first < len(words) else None
        for curl in _curl_calls(words):
            fails = [f for f in curl if f in ("--fail", "--fail-with-body")
                     or re.fullmatch(r"-[a-zA-Z]*f\w*", f)]
            assert fails, f"{command.where()}: curl without -f (HTTP errors would pass): {text}"
        if ASSIGNMENT.match(text):
            output = self._assign(command, text)
        elif program in GIS:
            output = self._gis(command, words[first + 1:], assignments)
        else:
            assert program in SHELL_PROGRAMS, (
                f"{command.where()}: {program!r} is not run by this test; mark the block "
                "`sh norun` or teach tests/test_docs.py to run it")
            output = self._bash(command, text)
        self.ran.append(text)
        if command.expected is not None:
            missing = matches(command.expected, output)
            assert missing is None, (
                f"{command.where()}: expected output not found: {missing!r}\n"
                f"command: {text}\noutput:\n{output[-3000:]}")

    def _expand(self, text: str) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1) or match.group(2)
            assert name in self.variables, f"undefined ${name} in {text!r}"
            return self.variables[name]
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)

    def _gis(self, command: Command, args: list[str], settings: list[str]) -> str:
        from gis.cli import app

        env = dict(s.split("=", 1) for s in settings)
        env = {k: self._expand(v) for k, v in env.items()}
        args = [self._expand(a) for a in args]
        assert not {"|", ">", "<", "&&", ";"} & set(args), (
            f"{command.where()}: gis commands are run without a shell; no pipes or redirects")
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, args, env=env)
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, (
            f"{command.where()}: gis {' '.join(args)} failed ({result.exit_code}):\n"
            f"{result.output[-3000:]}\n{result.exception!r}")
        return result.stdout

    def _environment(self) -> dict[str, str]:
        return {**os.environ, **self.variables}

    def _bash(self, command: Command, script: str) -> str:
        proc = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=self.workdir,
                              env=self._environment(), capture_output=True, text=True,
                              timeout=180)
        assert proc.returncode == 0, (
            f"{command.where()}: exit {proc.returncode}\ncommand: {script}\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}")
        return proc.stdout

    def _assign(self, command: Command, text: str) -> str:
        name = ASSIGNMENT.match(text).group(1)  # type: ignore[union-attr]
        value = self._bash(command, f"{text.removeprefix('export ')}\nprintf '%s' \"${name}\"")
        assert value, f"{command.where()}: ${name} came out empty"
        self.variables[name] = value
        return value


@pytest.fixture(scope="module")
def server_settings() -> Iterator[None]:
    """What the guide tells readers to put into .env, set before the live server starts."""
    extra = {"GIS_RASTER_DIR": str(SAMPLES), "GIS_DEM_PATH": str(SAMPLES / "dem.tif")}
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def docs_server(server_settings: None, live_server: str, settings: Settings,
                sample_db: Engine) -> str:
    from gis.samples import load_sample_ledger

    assert load_sample_ledger(sample_db, settings.with_changes(data={"samples_dir": SAMPLES}))
    return live_server


def _forget_documented_keys(engine: Engine, commands: list[Command]) -> None:
    """Keys the guide issues are revoked by the guide; after an interrupted run they may
    still be active in an external test database, and issuing them again would fail."""
    from gis.auth import revoke_key
    from gis.errors import NotFound

    for command in commands:
        words = tokens(command.text)
        if isinstance(words, list) and words[1:3] == ["users", "add"]:
            with contextlib.suppress(NotFound):
                revoke_key(engine, words[3])


def test_the_guide_runs_top_to_bottom(docs_server: str, settings: Settings, sample_db: Engine,
                                      role_keys: dict[str, dict[str, str]],
                                      tmp_path: Path) -> None:
    commands = walkthrough(GUIDES[0])
    _forget_documented_keys(sample_db, commands)
    make_input_files(tmp_path)
    (tmp_path / "data").symlink_to(ROOT / "data")
    embedded = settings.database.uses_embedded_cluster
    walk = Walkthrough(tmp_path, docs_server, settings, {
        "KEY": role_keys["planner"]["X-API-Key"],
        "FORESTRY_KEY": role_keys["forestry"]["X-API-Key"]})
    cwd = Path.cwd()
    os.chdir(tmp_path)
    skipped = []
    try:
        for command in commands:
            if not embedded and re.search(r"\.gisdata|55432|PGPASSWORD", command.text):
                skipped.append(command.where())  # addresses the embedded cluster
                continue
            walk.run(command)
    finally:
        os.chdir(cwd)
        # Leave the session as other tests expect it, whatever happened above.
        _forget_documented_keys(sample_db, commands)
        if embedded:
            with sample_db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("DROP DATABASE IF EXISTS onemap_restore WITH (FORCE)"))
    assert len(walk.ran) + len(skipped) == len(commands)
    print("slowest commands:", sorted(walk.seconds, reverse=True)[:8])
    # What the walkthrough claims to have done, checked independently.
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "siting.xlsx").stat().st_size > 0
    assert (tmp_path / "林草核查台账-640202.xlsx").stat().st_size > 0
    assert (tmp_path / "village_plans-10-391-814.mvt").stat().st_size > 0
    import pyogrio

    assert len(pyogrio.read_dataframe(tmp_path / "forest_parcels.gpkg")) > 400
    if embedded:
        assert (tmp_path / "onemap-backup.dump").read_bytes().startswith(b"PGDMP")


def test_readme_layer_service_examples_run(docs_server: str, tmp_path: Path,
                                           role_keys: dict[str, dict[str, str]],
                                           settings: Settings) -> None:
    """README's curl and ogrinfo examples, against the live server (``-f`` added to curl
    where the README leaves it out, so that an HTTP error fails)."""
    walk = Walkthrough(tmp_path, docs_server, settings,
                       {"KEY": role_keys["planner"]["X-API-Key"]})
    ran = 0
    for block in fenced_blocks(README):
        if block.lang != "sh":
            continue
        for command in split_commands(block):
            words = tokens(command.text)
            if isinstance(words, list) and words[0] in {"curl", "ogrinfo"}:
                if words[0] == "curl" and "-f" not in command.text:
                    command.text = command.text.replace("curl ", "curl -f ", 1)
                walk.run(command)
                ran += 1
    assert ran >= 2
