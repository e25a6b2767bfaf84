"""Build the reference site (``make docs``): the README, the user guides, the analyst
library's API reference (mkdocstrings, from the docstrings) and the executed notebooks, in
one mkdocs site, with ``--strict`` so any warning fails the build.

The site is assembled in a staging folder, because mkdocs reads only its ``docs_dir``: the
``docs/`` pages, the README as the home page, and the notebooks *executed* (the stored ones
carry no outputs; the tests' copies, already run, are passed with ``--executed``, else they
are run here against the database of the settings: start it first, ``make run`` or
``gis db up`` with the samples loaded). Links that pointed out of ``docs/`` are rewritten to
their pages in the site.

    .venv/bin/python scripts/build_docs.py [--executed DIR] [--site DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: (text, replacement) for links out of docs/ once the pages sit in the site's root.
README_LINKS = [("](docs/", "]("), ("](notebooks/)", "](notebooks/01_siting.ipynb)")]
GUIDE_LINKS = [("](../README.md)", "](index.md)")]


def execute(source: Path, target: Path) -> None:
    """Run the notebooks of ``source`` into ``target`` (each in a scratch working folder)."""
    import nbformat
    from nbclient import NotebookClient

    for path in sorted(source.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as work:
            NotebookClient(nb, timeout=300, kernel_name="python3",
                           resources={"metadata": {"path": work}}).execute()
        nbformat.write(nb, target / path.name)


def stage(folder: Path, executed: Path | None) -> None:
    shutil.copytree(ROOT / "docs", folder, dirs_exist_ok=True)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for old, new in README_LINKS:
        readme = readme.replace(old, new)
    (folder / "index.md").write_text(readme, encoding="utf-8")
    for guide in folder.glob("user-guide.*.md"):
        text = guide.read_text(encoding="utf-8")
        for old, new in GUIDE_LINKS:
            text = text.replace(old, new)
        guide.write_text(text, encoding="utf-8")
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    if executed is not None:
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            shutil.copy(executed / path.name, notebooks / path.name)
    else:
        execute(ROOT / "notebooks", notebooks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executed", type=Path, help="folder of executed notebooks")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="output folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="onemap-docs-") as folder:
        stage(Path(folder) / "docs", args.executed)
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
               "ONEMAP_DOCS_DIR": str(Path(folder) / "docs"),
               "ONEMAP_SITE_DIR": str(args.site.resolve())}
        mkdocs = Path(sys.executable).with_name("mkdocs")
        return subprocess.run([str(mkdocs), "build", "--strict", "--clean", "-f",
                               str(ROOT / "mkdocs.yml")], env=env, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
