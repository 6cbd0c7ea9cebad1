#!/usr/bin/env bash
# Set up twin in a virtual environment at .venv/ (idempotent; rerun to update).
#
#   scripts/setup.sh          the app (CLI, window, local LLM engine)
#   scripts/setup.sh --dev    the app plus everything the tests need (test models included)
#
# Environment:
#   PYTHON=python3.11                  interpreter for the venv (3.11–3.13)
#   TWIN_TORCH="torch==2.13.0"         torch requirement, installed FIRST so that
#                                      sentence-transformers does not pull a multi-GB CUDA build;
#                                      NVIDIA users may set e.g. TWIN_TORCH="torch --index-url …/cu128"
#   CMAKE_ARGS="-DGGML_CUDA=on"        build llama-cpp-python for NVIDIA GPUs (needs the CUDA toolkit)
set -euo pipefail
cd "$(dirname "$0")/.."

extras="llm,gui"
if [[ "${1:-}" == "--dev" ]]; then
    extras="llm,gui,hotkey,test"
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip

# 1. torch first (CPU build by default).
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    "${pip[@]}" install "${TWIN_TORCH:-torch==2.13.0}"
fi

# 2. twin and its dependencies. llama-cpp-python compiles llama.cpp the first time
#    (about 10 minutes on 2 cores; pip caches the wheel). The multimodal library is not needed.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
"${pip[@]}" install -e ".[${extras}]"

echo "twin is set up: .venv/bin/twin --help"
