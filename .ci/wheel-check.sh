#!/usr/bin/env bash
# Any install works (issue 13 §1): build an sdist, build the wheel from it (as pip does for an sdist), install the
# wheel into a clean venv and run perechen from an empty temporary folder — nothing may depend on the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m venv "$work/build"
"$work/build/bin/pip" install -q 'setuptools>=68' wheel
"$work/build/bin/python" -c "from setuptools import build_meta as b; b.build_sdist('$work/dist')" >/dev/null 2>&1 \
  || { echo "building the sdist failed" >&2; exit 1; }
"$work/build/bin/pip" wheel -q --no-deps -w "$work/dist" "$work"/dist/perechen-*.tar.gz
"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/perechen-*.whl
mkdir "$work/run"
cd "$work/run"
unset PYTHONPATH PERECHEN_CONFIG
wb=$("$work/venv/bin/python" -c "import perechen.bundled as b; print(b.sample_workbook())")
case "$wb" in "$work/venv/"*) ;; *) echo "the sample workbook is not inside the installed package: $wb" >&2; exit 1;; esac
echo "   perechen check $wb"
"$work/venv/bin/perechen" check "$wb" --quiet
echo "   perechen nightly --demo"
"$work/venv/bin/python" -m perechen nightly --demo --quiet
test -f output/reports/index.html
"$work/venv/bin/perechen" rules --format json >/dev/null
"$work/venv/bin/perechen" init new.xlsx >/dev/null
echo "   wheel check passed"
