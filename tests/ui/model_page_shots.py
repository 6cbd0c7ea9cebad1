#!/usr/bin/env python3
"""Screenshots of the model page under a (virtual) X display, saved to ``artifacts/``.

    xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python tests/ui/model_page_shots.py

The page as a 24 GB card (RTX 4090, 23.6 GB free) and a 64 GB machine would show it, with a
file in LM Studio's folder and one in Ollama's (a fake home in a temp folder), in English
(model-page.png) and Russian (model-page-ru.png); then the same for a machine without a GPU
(model-page-cpu.png). The memory is given, not measured: this machine has no GPU. Last, the
first-run wizard's model page as this machine measures itself (first-run-model-page.png).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "qwen3"))


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("no DISPLAY: run under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    tmp = Path(tempfile.mkdtemp(prefix="twin-model-shots-"))
    os.environ["TWIN_HOME"] = str(tmp / "twin")
    from PySide6.QtWidgets import QApplication

    from tiny_qwen3 import write_tiny_qwen3
    from twin.app.model_listing import list_models
    from twin.core.llm.fit import GIB, MIB, Memory
    from twin.paths import resolve_paths
    from twin.settings import Settings
    from twin.ui import i18n
    from twin.ui.model_page import ModelPage
    from twin.ui.theme import ThemeManager

    home = tmp / "home"
    lms = home / ".lmstudio/models/Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf"
    lms.parent.mkdir(parents=True)
    write_tiny_qwen3(lms)
    blob = home / ".ollama/models/blobs/sha256-1234"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(lms.read_bytes() + b"\0")
    manifest = home / ".ollama/models/manifests/registry.ollama.ai/library/qwen3/30b-a3b"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                                "digest": "sha256:1234"}]}))
    app = QApplication(sys.argv)
    try:
        ThemeManager(app, "light").apply()
    except Exception as e:  # noqa: BLE001 - the theme is cosmetic here
        print(f"theme not applied: {e}", file=sys.stderr)
    paths = resolve_paths({"TWIN_HOME": str(tmp / "twin")})
    settings = Settings()
    card = Memory(vram_free=24164 * MIB, vram_total=24564 * MIB, gpu_name="NVIDIA GeForce RTX 4090",
                  ram_total=64 * GIB)
    shots = [("model-page.png", "en", card, True), ("model-page-ru.png", "ru", card, True),
             ("model-page-cpu.png", "en", Memory(ram_total=32 * GIB), False)]
    OUT.mkdir(exist_ok=True)
    for name, lang, memory, gpu in shots:
        i18n.install(lang, paths.cache_dir, app)
        page = ModelPage(settings, paths, lister=lambda m=memory, g=gpu: list_models(
            settings, paths, home=home, memory=m, gpu_supported=g))
        page.resize(980, 760)
        page.show_listing(page.lister())
        page.show()
        for _ in range(20):
            app.processEvents()
        page.grab().save(str(OUT / name))
        print(f"wrote {OUT / name}")
        page.close()
        i18n.uninstall()
    # the first-run wizard's model page as this machine measures itself (no injected memory)
    import time

    from twin.ui.first_run import FirstRunWizard

    os.environ["TWIN_SCAN_HOME"] = str(home)
    wizard = FirstRunWizard(settings, paths)
    wizard.show()
    wizard.next()
    deadline = time.monotonic() + 20
    while wizard.models.table.rowCount() == 0 and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
    for _ in range(20):
        app.processEvents()
    wizard.grab().save(str(OUT / "first-run-model-page.png"))
    print(f"wrote {OUT / 'first-run-model-page.png'}")
    wizard.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
