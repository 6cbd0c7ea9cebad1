#!/usr/bin/env bash
# Prepare what run_gpu_bench.sh needs on a GPU machine without network, in bench/gpu/carry/:
#   llama-src.tar.xz  llama-cpp-python's source (the sdist of the installed version): its Python
#                     package + vendor/llama.cpp without models, docs, tests, examples, .git and
#                     the server's web UI (77 MB sdist -> ~10 MB)
#   pylib/            pure-Python packages that machine lacks: gguf (the model writer), diskcache
#                     (imported by llama_cpp)
# usage: bench/gpu/pack_llama_src.sh [SDIST.tar.gz]
#   Without an sdist, it is fetched from PyPI with pip (the version of the llama_cpp installed here).
# The folder is not for committing: add it to .git/info/exclude and name it in the device call's
# `carry` (["bench/gpu/carry"]).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
CARRY="$HERE/carry"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
SDIST="${1:-}"
if [ -z "$SDIST" ]; then
  version="$($PY -c 'import llama_cpp; print(llama_cpp.__version__)')"
  $PY -m pip download --no-deps --no-binary :all: -d "$TMP/dl" "llama-cpp-python==$version" >/dev/null
  SDIST="$(ls "$TMP"/dl/llama_cpp_python-*.tar.gz)"
fi
tar -xzf "$SDIST" -C "$TMP"
src="$(ls -d "$TMP"/llama_cpp_python-*)"
name="$(basename "$src")"
v="$src/vendor/llama.cpp"
rm -rf "$src/.git" "$v"/{.git,.github,.devops,docs,models,tests,examples,pocs,benches,scripts,conversion,gguf-py,media,skills,requirements} \
       "$v/tools/ui" "$src/docker" "$src/docs" "$src/examples" "$src/tests"
mkdir -p "$v/models" "$v/tests" "$v/examples" "$v/pocs" && touch "$v/tests/CMakeLists.txt"  # referenced, unused
mkdir -p "$CARRY"
tar -C "$TMP" -cJf "$CARRY/llama-src.tar.xz" "$name"
rm -rf "$CARRY/pylib" && mkdir -p "$CARRY/pylib"
for pkg in gguf diskcache; do
  dir="$($PY -c "import $pkg, os; print(os.path.dirname($pkg.__file__))")"
  cp -r "$dir" "$CARRY/pylib/"
done
find "$CARRY/pylib" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$CARRY"/* | sed 's/^/carry: /'
