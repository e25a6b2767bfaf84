"""Every public name of the analyst's library (``gis.__all__``, and the public methods and
properties of its classes) has a docstring with an example, and every example runs
(doctest) against the test database with the sample one-map.

The examples are the reference site's (``make docs``): a name whose example stops working
fails here, not in a reader's notebook.
"""

from __future__ import annotations

import doctest
import inspect
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

import gis
from gis.samples import load_sample_ledger
from gis.settings import Settings
from tests.server_fixtures import SAMPLES


def public_names() -> Iterator[tuple[str, object]]:
    """(dotted name, object) of every public name: ``gis.X`` and ``gis.X.member``."""
    for name in gis.__all__:
        value = getattr(gis, name)
        yield f"gis.{name}", value
        if inspect.isclass(value):
            for member, attr in vars(value).items():
                if member.startswith("_"):
                    continue
                if isinstance(attr, property):
                    attr = attr.fget
                if callable(attr):
                    yield f"gis.{name}.{member}", attr
            public = {getattr(gis, n) for n in gis.__all__}
            for base in value.__mro__[1:]:
                # members of a private base (OneMap's analyses); a public base has its own
                if base.__module__.startswith("gis.") and base not in public:
                    for member, attr in vars(base).items():
                        if not member.startswith("_") and member not in vars(value):
                            attr = attr.fget if isinstance(attr, property) else attr
                            if callable(attr):
                                yield f"gis.{name}.{member}", attr


NAMES = dict(public_names())


@pytest.fixture(scope="module")
def doctest_db(settings: Settings, sample_db: Engine) -> Engine:
    assert load_sample_ledger(sample_db, settings.with_changes(data={"samples_dir": SAMPLES}))
    return sample_db


def test_the_public_surface_is_small_and_listed() -> None:
    assert sorted(gis.__all__) == ["OneMap", "QuotaReport", "Result", "SitingCheck", "areas",
                                   "connect", "use_cjk_font"]
    assert len(NAMES) < 40, sorted(NAMES)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_public_name_has_a_runnable_example(name: str, doctest_db: Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIS_LANG", "en")
    obj = NAMES[name]
    docstring = inspect.getdoc(obj) or ""
    assert "Examples:" in docstring and ">>>" in docstring, f"{name}: no example"
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(obj, name, globs={}) if t.examples]
    assert tests, name
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
