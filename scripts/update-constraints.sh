#!/usr/bin/env bash
# Write constraints.txt from the working venv (after `TWIN_NO_CONSTRAINTS=1 scripts/setup.sh --dev`
# and a green scripts/test.sh). torch is left out: scripts/setup.sh installs it first from
# TWIN_TORCH (a CPU or a CUDA build), and its CUDA libraries differ by machine.
set -euo pipefail
cd "$(dirname "$0")/.."
{
    echo "# Versions twin's test suite passed with; scripts/setup.sh installs with -c constraints.txt."
    echo "# Regenerate: TWIN_NO_CONSTRAINTS=1 scripts/setup.sh --dev && scripts/test.sh && scripts/update-constraints.sh"
    echo "# Python $(.venv/bin/python -c 'import platform; print(platform.python_version())'), $(date -u +%Y-%m-%d)"
    .venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check \
        | grep -viE '^(torch|triton|nvidia-[a-z0-9-]+|twin)==' | grep -v '^#' | LC_ALL=C sort -f
} > constraints.txt.tmp
mv constraints.txt.tmp constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
