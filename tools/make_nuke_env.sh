#!/usr/bin/env bash
# A Python 3.10 environment with the torch that Nuke 14 and 15 embed (1.12.1), for checking that
# `stylereel export --format torchscript` files load and run there (tests/test_export.py reads
# STYLEREEL_NUKE_PYTHON, or finds .cache/nuke-torch112/bin/python).
#   bash tools/make_nuke_env.sh [FOLDER]      (default .cache/nuke-torch112; about 1.7 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:-.cache/nuke-torch112}"
python310="$(command -v python3.10 || ls -d "$HOME"/.pyenv/versions/3.10*/bin/python 2>/dev/null | head -1 || true)"
if [ -z "$python310" ]; then
  echo "no Python 3.10 found (pyenv install 3.10, or put python3.10 on PATH)" >&2
  exit 2
fi
"$python310" -m venv "$folder"
"$folder/bin/pip" install -q "torch==1.12.1" "numpy<2"
"$folder/bin/python" -c "import torch; print('torch', torch.__version__, 'in', '$folder')"
