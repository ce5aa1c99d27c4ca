#!/usr/bin/env bash
# The layout check of the product code: no circles between files or folders, each folder only on
# folders of lower layers, at most 25 files a folder, no function over 80 lines without a
# `/* long: why */` comment. The rules and the layer table are in deploy/check-layout.py.
# Usage: deploy/check-layout.sh [--root DIR]; exits 1 when a check fails, 2 when it cannot run.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/check-layout.py" "$@"
