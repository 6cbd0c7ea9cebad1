#!/usr/bin/env bash
# Set up twin in a virtual environment at .venv/ (idempotent; rerun to update).
#
#   scripts/setup.sh          the app (CLI, window, local LLM engine)
#   scripts/setup.sh --dev    the app plus everything the tests need (test models included)
#
# Versions come from constraints.txt (the versions the test suite passed with), so two
# installs a month apart get the same ones. TWIN_NO_CONSTRAINTS=1 resolves afresh
# (then scripts/update-constraints.sh writes the new set).
#
# llama-cpp-python: a prebuilt wheel from the project's wheel index is tried first (seconds);
# only when none fits this platform is llama.cpp built from source (minutes; pip caches the
# built wheel, so the next venv takes seconds). The script says which happened and how long.
#
# Environment:
#   PYTHON=python3.11                  interpreter for the venv (3.11–3.13)
#   TWIN_TORCH="torch==2.13.0"         torch requirement, installed FIRST so that
#                                      sentence-transformers does not pull a multi-GB CUDA build;
#                                      NVIDIA users may set e.g. TWIN_TORCH="torch --index-url …/cu128"
#   TWIN_CUDA=12.4                     NVIDIA: the CUDA wheel of llama-cpp-python (cu121…cu125);
#                                      without it, CMAKE_ARGS with -DGGML_CUDA=on picks the CUDA
#                                      version from nvcc or nvidia-smi
#   CMAKE_ARGS="-DGGML_CUDA=on"        the source build's options (the CUDA build needs the toolkit)
#   TWIN_LLAMA_INDEX=URL               another prebuilt wheel index; TWIN_LLAMA_INDEX=none: always build
#   TWIN_PREBUILT_TIMEOUT=15           seconds to wait for the wheel index before building instead
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

constraints=()
if [[ -f constraints.txt && -z "${TWIN_NO_CONSTRAINTS:-}" ]]; then
    constraints=(-c constraints.txt)
fi

# 1. torch first (CPU build by default).
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    "${pip[@]}" install "${constraints[@]}" "${TWIN_TORCH:-torch==2.13.0}"
fi

# 2. llama-cpp-python: a prebuilt wheel where one fits, else built from source.
llama_req="llama-cpp-python>=0.3.35,<0.4"
if [[ ${#constraints[@]} -gt 0 ]]; then
    pinned=$(grep -iE '^llama[-_]cpp[-_]python==' constraints.txt | head -1 || true)
    [[ -n "$pinned" ]] && llama_req="llama-cpp-python==${pinned#*==}"
fi
cuda_variant() {  # cu12X from TWIN_CUDA, or from nvcc/nvidia-smi when CMAKE_ARGS asks for CUDA
    local v="${TWIN_CUDA:-}"
    if [[ -z "$v" && "${CMAKE_ARGS:-}" =~ GGML_CUDA=(on|ON|1) ]]; then
        v=$(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
        [[ -z "$v" ]] && v=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
    fi
    [[ -z "$v" ]] && return 0
    local major=${v%%.*} minor=${v#*.}
    minor=${minor%%.*}
    if [[ "$major" == 12 ]]; then
        (( minor > 5 )) && minor=5  # the newest CUDA wheels are cu125; newer drivers run them
        (( minor < 1 )) && minor=1
        echo "cu12${minor}"
    else
        echo "setup: no prebuilt llama-cpp-python for CUDA $v (only 12.x); building from source" >&2
        echo "none"
    fi
}
if .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "llama-cpp-python: already installed ($(.venv/bin/python -c 'import llama_cpp; print(llama_cpp.__version__)'))"
else
    variant=$(cuda_variant)
    if [[ -n "${TWIN_CUDA:-}" && "$variant" == cu* && ! "${CMAKE_ARGS:-}" =~ GGML_CUDA ]]; then
        export CMAKE_ARGS="${CMAKE_ARGS:+$CMAKE_ARGS }-DGGML_CUDA=on"  # the fallback build, too
    fi
    if [[ -z "$variant" && "$(uname -s)" == Darwin ]]; then
        variant=metal  # Apple silicon: the Metal wheels
    fi
    index="${TWIN_LLAMA_INDEX:-https://abetlen.github.io/llama-cpp-python/whl/${variant:-cpu}}"
    [[ "$variant" == none ]] && index=none
    how=""
    start=$(date +%s)
    if [[ "$index" != none ]]; then
        echo "llama-cpp-python: trying a prebuilt wheel ($llama_req) from $index"
        if "${pip[@]}" install -q --no-deps --only-binary llama-cpp-python --extra-index-url "$index" \
                --timeout "${TWIN_PREBUILT_TIMEOUT:-15}" --retries 0 "$llama_req" 2>/tmp/twin-setup-prebuilt.$$.log; then
            how="prebuilt wheel from $index"
        else
            reason=$(grep -E "ERROR|Could not|No matching" /tmp/twin-setup-prebuilt.$$.log | head -1 || true)
            echo "llama-cpp-python: no prebuilt wheel fits (${reason:-no details}) after $(( $(date +%s) - start )) s"
        fi
        rm -f /tmp/twin-setup-prebuilt.$$.log
    fi
    if [[ -z "$how" ]]; then
        # The multimodal library is not needed. pip caches the built wheel (~/.cache/pip/wheels).
        export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
        echo "llama-cpp-python: building llama.cpp from source (CMAKE_ARGS=$CMAKE_ARGS): minutes the first time, seconds from pip's cache"
        start=$(date +%s)
        nocache=()  # pip's wheel cache ignores CMAKE_ARGS: a cached CPU build must not stand in for a CUDA one
        [[ "$CMAKE_ARGS" =~ GGML_(CUDA|HIP|VULKAN|METAL|SYCL) ]] && nocache=(--no-cache-dir)
        "${pip[@]}" install --no-deps "${nocache[@]}" "${constraints[@]}" "$llama_req"
        how="built from source (or pip's cache of an earlier build)"
    fi
    echo "llama-cpp-python: $how in $(( $(date +%s) - start )) s"
fi

# 3. twin and its dependencies.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
"${pip[@]}" install "${constraints[@]}" -e ".[${extras}]"

echo "twin is set up: .venv/bin/twin --help   (Linux desktop menu: .venv/bin/twin install-desktop)"
