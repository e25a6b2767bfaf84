"""Compare the packages installed in this interpreter with a lock file, and prune extras.

    python scripts/venv_lock.py check requirements/test.lock.txt   # exit 1 on any difference
    python scripts/venv_lock.py prune requirements/test.lock.txt   # uninstall what the lock lacks

Used by scripts/setup.sh after ``pip install --require-hashes -r LOCK`` so that the venv holds
exactly the lock (pip never removes what an earlier install left), and by the test suite so
that a venv that drifted from the lock fails loudly. Standard library and pip's own vendored
``packaging`` only: it runs before anything else is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.utils import canonicalize_name
except ImportError:  # a bare venv: pip's copy
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

#: The project itself is installed editable from the source tree, not from the lock.
PROJECT = "onemap"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+))?")


def locked(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` of the lock's pins whose markers hold here."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if not match:
            continue
        name, version, marker = match.groups()
        if marker and not Marker(marker.strip()).evaluate():
            continue
        pins[canonicalize_name(name)] = version
    return pins


def installed() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[canonicalize_name(name)] = dist.version
    found.pop(PROJECT, None)
    return found


def differences(lock: Path) -> list[str]:
    want, have = locked(lock), installed()
    out = []
    for name in sorted(set(want) | set(have)):
        if name not in have:
            out.append(f"missing    {name}=={want[name]}")
        elif name not in want:
            out.append(f"not locked {name}=={have[name]}")
        elif have[name] != want[name]:
            out.append(f"version    {name}: installed {have[name]}, locked {want[name]}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("check", "prune"):
        print(__doc__, file=sys.stderr)
        return 2
    command, lock = argv[0], Path(argv[1])
    if command == "prune":
        extra = sorted(set(installed()) - set(locked(lock)))
        if extra:
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", *extra],
                           check=True)
    diff = differences(lock)
    for line in diff:
        print(line, file=sys.stderr)
    if diff:
        print(f"the environment differs from {lock} in {len(diff)} package(s); "
              "run scripts/setup.sh again, or `make lock` to move the lock deliberately",
              file=sys.stderr)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
