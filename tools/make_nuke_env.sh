#!/usr/bin/env bash
# A Python 3.10 environment with the torch that Nuke 14 and 15 embed (1.12.1), for checking that
# `stylereel export --format torchscript` files load and run there (tests/test_export.py reads
# STYLEREEL_NUKE_PYTHON, or finds .cache/nuke-torch112/bin/python).
#   bash tools/make_nuke_env.sh [FOLDER]      (default .cache/nuke-torch112; about 1.7 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:-.cache/nuke-torch112}"
python310=""  # the first Python 3.10 that runs (a pyenv shim on PATH may name a version that is not switched on)
for candidate in "$(command -v python3.10 || true)" "$HOME"/.pyenv/versions/3.10*/bin/python; do
  if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    python310="$candidate"
    break
  fi
done
if [ -z "$python310" ]; then
  echo "no Python 3.10 found (pyenv install 3.10, or put python3.10 on PATH)" >&2
  exit 2
fi
"$python310" -m venv "$folder"
"$folder/bin/pip" install -q "torch==1.12.1" "numpy<2"
"$folder/bin/python" -c "import torch; print('torch', torch.__version__, 'in', '$folder')"
