#!/usr/bin/env bash
# twin on an NVIDIA GPU, in one go, on a machine with no network: build llama.cpp with CUDA
# from a carried source tree (or use carried prebuilt libraries), write a synthetic GGUF
# shaped exactly like Qwen3-30B-A3B Q6_K, and measure decode and prompt tokens/s with full
# offload through twin's engine beside llama.cpp's own numbers (its C-API loop and timings,
# and llama-bench when built). Results: $OUT/gpu_bench.{md,json} and the logs.
#
# What to carry (prepare here with bench/gpu/pack_llama_src.sh; ~10 MB, under the 64 MiB a
# device call may take): bench/gpu/carry/llama-src.tar.xz (llama-cpp-python's Python package
# + vendor/llama.cpp without models, docs, tests, .git) and bench/gpu/carry/pylib (pure-Python
# packages the GPU machine lacks: gguf, diskcache). Then, on the GPU machine:
#
#   bash bench/gpu/run_gpu_bench.sh --src bench/gpu/carry/llama-src.tar.xz --pylib bench/gpu/carry/pylib
#
# Options:
#   --src TAR|DIR     build llama.cpp (libllama + ggml-cuda + llama-bench) from this tree, CUDA on
#   --libs TAR|DIR    use prebuilt libraries instead (libllama.so, libggml*.so, llama-bench);
#                     the Python package then comes from --pylib (a copy of llama_cpp/ without lib/)
#   --installed       use the llama_cpp that $PYTHON already imports (no build)
#   --pylib DIR       put DIR first on PYTHONPATH (gguf, diskcache, llama_cpp…)
#   --cpu             build without CUDA and run on the CPU (to test this script on a CPU machine)
#   --tiny            a tiny model (the generator's small flags) instead of the 25 GB one
#   --model PATH      use this GGUF instead of writing the synthetic one
#   --work DIR        scratch (default /dev/shm/twin-gpu-bench if it has room, else /tmp/…)
#   --out DIR         results (default $OUT, the device tool's output folder, else ./gpu-bench-out)
#   --cuda-arch N     CMAKE_CUDA_ARCHITECTURES (default 90: H100/H200; "native" to detect)
#   --jobs N          build jobs (default: all cores)
#   extra arguments after -- go to gpu_bench.py (e.g. -- --n-gen 512 --reps 5)
#
# Timing on an H200 machine (16 cores): the CUDA build of the targets needed takes a few
# minutes (ggml-cuda dominates), the 25 GB model ~20 s to write to RAM, loading ~6-10 s each
# for twin's engine and the reference; run it with a device timeout that leaves room for a rerun.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
SRC="" LIBS="" INSTALLED=0 PYLIB="" CPU=0 TINY=0 MODEL="" WORK="" CUDA_ARCH=90
OUTDIR="${OUT:-$PWD/gpu-bench-out}"
JOBS="$(nproc)"
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --src) SRC="$2"; shift 2 ;;
    --libs) LIBS="$2"; shift 2 ;;
    --installed) INSTALLED=1; shift ;;
    --pylib) PYLIB="$(cd "$2" && pwd)"; shift 2 ;;
    --cpu) CPU=1; shift ;;
    --tiny) TINY=1; shift ;;
    --model) MODEL="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --out) OUTDIR="$2"; shift 2 ;;
    --cuda-arch) CUDA_ARCH="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
if [ -z "$WORK" ]; then
  need_gb=$([ "$TINY" = 1 ] && echo 1 || echo 30)
  if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print int($4/1048576)}')" -ge "$need_gb" ]; then
    WORK=/dev/shm/twin-gpu-bench
  else
    WORK="${TMPDIR:-/tmp}/twin-gpu-bench"
  fi
fi
mkdir -p "$WORK" "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
LOG="$OUTDIR/run_gpu_bench.log"
exec > >(tee -a "$LOG") 2>&1
t_start=$(date +%s)
say() { echo "[$(( $(date +%s) - t_start ))s] $*"; }
say "work $WORK, out $OUTDIR, python $($PYTHON -c 'import sys; print(sys.version.split()[0])')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader || say "no nvidia-smi"

[ -n "$PYLIB" ] && export PYTHONPATH="$PYLIB${PYTHONPATH:+:$PYTHONPATH}"
LLAMA_BENCH=""

unpack() {  # unpack TAR|DIR into $WORK/$2 (a directory is used as is); print the directory
  if [ -d "$1" ]; then (cd "$1" && pwd); return; fi
  rm -rf "${WORK:?}/$2" && mkdir -p "$WORK/$2"
  tar -xf "$1" -C "$WORK/$2"
  local top; top="$(ls "$WORK/$2")"
  if [ "$(echo "$top" | wc -l)" = 1 ] && [ -d "$WORK/$2/$top" ]; then echo "$WORK/$2/$top"; else echo "$WORK/$2"; fi
}

if [ -n "$SRC" ]; then
  tree="$(unpack "$SRC" src)"
  [ -d "$tree/vendor/llama.cpp" ] || { echo "$SRC has no vendor/llama.cpp" >&2; exit 2; }
  cuda_flags=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH")
  [ "$CPU" = 1 ] && cuda_flags=(-DGGML_CUDA=OFF -DGGML_NATIVE=ON)
  gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  say "configuring llama.cpp (${cuda_flags[*]})"
  cmake -S "$tree/vendor/llama.cpp" -B "$WORK/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF -DGGML_OPENMP=OFF "${cuda_flags[@]}" > "$OUTDIR/cmake_configure.log"
  say "building libllama, ggml and llama-bench with $JOBS jobs"
  cmake --build "$WORK/build" -j "$JOBS" --target llama llama-bench > "$OUTDIR/cmake_build.log"
  export LLAMA_CPP_LIB_PATH="$WORK/build/bin"
  export LD_LIBRARY_PATH="$WORK/build/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PYTHONPATH="$tree${PYTHONPATH:+:$PYTHONPATH}"  # llama-cpp-python's Python package, same version
  LLAMA_BENCH="$WORK/build/bin/llama-bench"
  say "built: $(ls "$WORK/build/bin" | tr '\n' ' ')"
elif [ -n "$LIBS" ]; then
  libdir="$(unpack "$LIBS" libs)"
  so="$(dirname "$(find "$libdir" -name 'libllama.so*' | head -1)")"
  [ -n "$so" ] || { echo "no libllama.so in $LIBS" >&2; exit 2; }
  export LLAMA_CPP_LIB_PATH="$so" LD_LIBRARY_PATH="$so${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  LLAMA_BENCH="$(find "$libdir" -name llama-bench -type f | head -1)"
elif [ "$INSTALLED" = 0 ]; then
  echo "say where llama.cpp comes from: --src, --libs or --installed" >&2; exit 2
fi
# cuBLAS/cudart from the machine's nvidia-* pip packages, when the toolkit's are not on the path
nv="$($PYTHON -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)"
if [ -n "$nv" ]; then
  for d in "$nv"/nvidia/*/lib; do [ -d "$d" ] && LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"; done
  export LD_LIBRARY_PATH
fi
$PYTHON -c 'import llama_cpp as L; print("llama_cpp", L.__version__, "from", L.__file__, "GPU offload:", bool(L.llama_supports_gpu_offload()))'

if [ -z "$MODEL" ]; then
  MODEL="$WORK/synthetic-qwen3-30b-a3b-q6_k.gguf"
  small=(); [ "$TINY" = 1 ] && small=(--layers 2 --experts 4 --experts-used 2 --vocab 2000 --embd 256 --heads 4 \
    --heads-kv 2 --head-dim 64 --ff-exp 256 --pool-mib 8 --threads 0) && MODEL="$WORK/synthetic-tiny-qwen3moe.gguf"
  if [ ! -s "$MODEL" ]; then
    say "writing $MODEL"
    $PYTHON "$HERE/make_synthetic_qwen3moe.py" "$MODEL" "${small[@]}"
  fi
fi

ngl=-1; [ "$CPU" = 1 ] && ngl=0
args=("$MODEL" --n-gpu-layers "$ngl" --out "$OUTDIR")
[ -n "$LLAMA_BENCH" ] && [ -x "$LLAMA_BENCH" ] && args+=(--llama-bench "$LLAMA_BENCH")
[ "$CPU" = 1 ] && args+=(--threads 1 --n-prompt 128 --n-gen 64)
say "measuring"
PYTHONUNBUFFERED=1 $PYTHON "$ROOT/bench/gpu/gpu_bench.py" "${args[@]}" "${EXTRA[@]}"
say "done: $OUTDIR/gpu_bench.md"
