#!/usr/bin/env bash
# Set up everything One-Map needs on a fresh Debian machine; safe to run again (idempotent).
#   scripts/setup.sh          system packages + Python venv (run / serve)
#   scripts/setup.sh test     ... plus what the tests need
#   scripts/setup.sh clients  ... plus the desktop clients of `make test-clients` (QGIS, xvfb)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
stamps=.setup-stamps
mkdir -p "$stamps"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# -- Debian packages ---------------------------------------------------------------------------
# PostgreSQL + PostGIS for the embedded cluster; gdal-bin for ogr2ogr (benchmarks, checks);
# a CJK font embedded in PDF reports.
# The portal's browser libraries come from npm (nodejs; Debian's npm only when no npm command
# exists: a nodejs from elsewhere may bring its own); the browser tests drive Debian's chromium.
apt_packages=(postgresql postgresql-postgis gdal-bin python3-venv python3-dev fonts-wqy-microhei
              nodejs)
# Pango (with HarfBuzz's subsetter) for WeasyPrint, which prints the PDF reports.
apt_packages+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
[ "$mode" = test ] && apt_packages+=(chromium)
# pdftoppm: report pages as pictures for docs/screenshots (tests/test_report_map.py).
[ "$mode" = test ] && apt_packages+=(poppler-utils)
# QGIS 3.22 (Debian's) with PyQGIS and a virtual X server for `make test-clients`.
[ "$mode" = clients ] && apt_packages+=(chromium qgis python3-qgis xvfb xauth)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then apt_cmd=(); elif command -v sudo >/dev/null; then apt_cmd=(sudo); else
    echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2; exit 1; fi
  say "installing Debian packages: ${missing[*]}"
  "${apt_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${apt_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts a system cluster on 5432 when it installs postgresql; we do not use it.

# -- Python virtual environment ----------------------------------------------------------------
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
# Exactly the lock: requirements/<mode>.lock.txt pins every package with its hashes (made by
# `make lock`, see scripts/lock.sh); anything an earlier install left that the lock lacks is
# removed, and scripts/venv_lock.py refuses a venv that still differs. A test venv also serves
# `make run`: the run lock is the test lock's subset at the same versions.
# The clients mode installs the test venv (its tests run there; QGIS brings its own Python).
venv_mode=$mode
[ "$mode" = clients ] && venv_mode=test
lock="requirements/${venv_mode}.lock.txt"
want="$(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)"
have="$(cat "$stamps/pip" 2>/dev/null || true)"
test_lock_hash="$(cat requirements/test.lock.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ "$have" != "$venv_mode-$want" ] && ! { [ "$venv_mode" = run ] && [ "$have" = "test-$test_lock_hash" ]; }; then
  say "installing the locked Python packages ($lock)"
  if ! { .venv/bin/python -m pip install -q --require-hashes -r "$lock" &&
         .venv/bin/python scripts/venv_lock.py prune "$lock" &&
         .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . ; } \
       > "$stamps/pip.log" 2>&1; then
    cat "$stamps/pip.log" >&2; exit 1
  fi
  .venv/bin/python scripts/venv_lock.py check "$lock"
  .venv/bin/python -c "import gis, api, portal" # fail here, not later, if the install broke
  echo "$venv_mode-$want" > "$stamps/pip"
fi
# -- Portal browser libraries (npm) -------------------------------------------------------------
# Served by the app from portal/node_modules (no CDN at run time); reinstalled when the lockfile
# changes or the folder is gone.
if [ -f portal/package-lock.json ]; then
  npm_want="$(sha256sum portal/package-lock.json | cut -c1-16)"; npm_cmd=(ci)
else
  npm_want="$(sha256sum portal/package.json | cut -c1-16)-nolock"; npm_cmd=(install)
fi
if [ ! -d portal/node_modules/leaflet ] || [ ! -f "$stamps/npm" ] || [ "$(cat "$stamps/npm")" != "$npm_want" ]; then
  say "installing the portal's npm packages"
  if ! npm "${npm_cmd[@]}" --prefix portal --no-audit --no-fund > "$stamps/npm.log" 2>&1; then
    cat "$stamps/npm.log" >&2; exit 1
  fi
  echo "$npm_want" > "$stamps/npm"
fi
say "ready ($mode)"
