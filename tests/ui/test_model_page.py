"""The model page (pytest-qt, offscreen): catalog with sizes and fit for a measured 24 GB card,
the recommendation, files found in a fake home offered in place, and a real download from the
fake hub after consent (progress, cancel, resume-able), plus the embedding model's row."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin.app.model_listing import list_models
from twin.core.llm.fit import GIB, MIB, Memory
from twin.paths import resolve_paths
from twin.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES / "qwen3"))
from tiny_qwen3 import write_tiny_qwen3  # noqa: E402

CARD_24 = Memory(vram_free=24164 * MIB, vram_total=24564 * MIB, gpu_name="NVIDIA GeForce RTX 4090", ram_total=64 * GIB)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_tiny_qwen3(tmp_path_factory.mktemp("tiny") / "tiny.gguf")
    padded = path.with_name("padded.gguf")
    padded.write_bytes(path.read_bytes() + os.urandom(24 << 20))  # big enough to watch and cancel
    return path


@pytest.fixture
def page(qtbot: Any, tmp_path: Path, twin_home: Path, tiny: Path) -> Any:
    from twin.ui.model_page import ModelPage

    home = tmp_path / "home"
    lms = home / ".lmstudio/models/Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf"
    lms.parent.mkdir(parents=True)
    lms.write_bytes(tiny.read_bytes())
    paths = resolve_paths({"TWIN_HOME": str(twin_home)})
    settings = Settings()
    w = ModelPage(settings, paths, lister=lambda: list_models(settings, paths, home=home, memory=CARD_24,
                                                               gpu_supported=True))
    qtbot.addWidget(w)
    w.resize(900, 700)
    w.show()
    w.refresh()
    qtbot.waitUntil(lambda: w.table.rowCount() > 0, timeout=20000)
    w.lms_path = lms
    return w


def row_texts(page: Any) -> list[list[str]]:
    return [[page.table.item(r, c).text() for c in range(3)] for r in range(page.table.rowCount())]


def test_sizes_fit_and_recommendation_for_a_24_gb_card(page: Any, qtbot: Any) -> None:
    rows = {r[0].replace("★ ", "").split(" — ")[0].split(" · ")[0]: r for r in row_texts(page)}
    assert "NVIDIA GeForce RTX 4090" in page.machine.text() and "32" in page.machine.text()
    rec = [r for r in row_texts(page) if r[0].startswith("★")]
    assert len(rec) == 1 and "Qwen3-30B-A3B-Instruct-2507 Q4_K_M" in rec[0][0] and "recommended" in rec[0][0]
    assert rec[0][1] == "18.6 GB" and rec[0][2] == "fits on the GPU"
    q6 = rows["Qwen3-30B-A3B-Instruct-2507 Q6_K"]
    assert q6[1] == "25.1 GB" and q6[2].startswith("partly on the GPU (") and "of 49 layers" in q6[2]
    assert rows["Qwen3-30B-A3B Base Q8_0 (base model)"][2].startswith("partly")
    assert page.selected()["id"] == "qwen3-30b-a3b-instruct-2507-q4_k_m"  # preselected
    assert "on disk" in rows["Qwen3-8B Q4_K_M"][0] or any("Qwen3-8B Q4_K_M" in r[0] and "on disk" in r[0]
                                                          for r in row_texts(page))
    # the LM Studio file is offered where it is
    texts = [page.files.item(i).text() for i in range(page.files.count())]
    assert any("Qwen3-8B-Q4_K_M.gguf — LM Studio" in t for t in texts)
    page.files.setCurrentRow(next(i for i, t in enumerate(texts) if "LM Studio" in t))
    with qtbot.waitSignal(page.model_chosen) as sig:
        page.use_button.click()
    assert sig.args == [str(page.lms_path)]


class Hub:
    def __init__(self, files: list[Path], log: Path, **env: str):
        self.log = log
        with log.open("a") as err:
            self.proc = subprocess.Popen([sys.executable, str(FIXTURES / "fake_hub.py"), *map(str, files)],
                                         stdout=subprocess.PIPE, stderr=err, text=True, env={**os.environ, **env})
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"


@pytest.fixture
def hub_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    hubs: list[Hub] = []
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    def make(files: list[Path], **env: str) -> Hub:
        hub = Hub(files, tmp_path / "hub.log", **env)
        hubs.append(hub)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)  # the download process inherits it
        return hub

    yield make
    for h in hubs:
        h.proc.terminate()
        h.proc.wait(10)


def select(page: Any, model_id: str) -> None:
    for r in range(page.table.rowCount()):
        if page.table.item(r, 0).data(0x0100) == model_id:
            page.table.selectRow(r)
            return
    raise AssertionError(model_id)


def test_download_asks_first_then_shows_progress_and_can_cancel(page: Any, qtbot: Any, hub_factory: Any,
                                                                tiny: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    hub_factory([tiny.with_name("padded.gguf")], FAKE_HUB_RATE=str(6 << 20))
    select(page, "qwen3-1.7b-q8_0")
    page.confirm_download()
    box = page.confirm_box
    assert box.isVisible() and "127.0.0.1" in box.text() and "Qwen3-1.7B-Q8_0.gguf" in box.text()
    assert "2.2 GB" in box.text() and not page.runner.running  # nothing connects before "Yes"
    box.button(QMessageBox.StandardButton.Yes).click()
    assert page.runner.running and page.cancel_button.isVisible()
    qtbot.waitUntil(lambda: page.progress.bar.value() > 50, timeout=30000)  # over 5 %
    assert "MB/s" in page.progress.status.text()
    assert page.progress.bar.maximum() == 1000 and " of " in page.progress.status.text()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not page.runner.running, timeout=20000)
    assert "resumes where it left off" in page.progress.status.text()
    part = page.paths.models_dir / ".Qwen3-1.7B-Q8_0.gguf.part"
    assert part.is_file() and part.stat().st_size > 0
    assert page.download_button.isEnabled() and not page.cancel_button.isVisible()


def test_download_completes_and_offers_the_file(page: Any, qtbot: Any, hub_factory: Any, tiny: Path) -> None:
    hub_factory([tiny])
    select(page, "qwen3-4b-q4_k_m")
    with qtbot.waitSignal(page.model_chosen, timeout=60000) as sig:
        page.start_download(page.selected())
    target = page.paths.models_dir / "Qwen3-4B-Q4_K_M.gguf"
    assert sig.args == [str(target)] and target.read_bytes() == tiny.read_bytes()
    assert "Downloaded:" in page.progress.status.text()
    qtbot.waitUntil(lambda: any("Qwen3-4B-Q4_K_M.gguf — twin" in page.files.item(i).text()
                                for i in range(page.files.count())), timeout=20000)


def test_a_failed_download_says_why(page: Any, qtbot: Any, hub_factory: Any, tiny: Path) -> None:
    hub_factory([tiny], FAKE_HUB_CORRUPT="1")
    select(page, "qwen3-4b-q8_0")
    page.start_download(page.selected())
    qtbot.waitUntil(lambda: not page.runner.running, timeout=60000)
    assert page.progress.status.text().startswith("Download failed:") and "sha256" in page.progress.status.text()


def test_embedding_row_asks_before_downloading(qtbot: Any, twin_home: Path) -> None:
    from twin.ui.model_page import EmbeddingDownload

    w = EmbeddingDownload("intfloat/multilingual-e5-base", twin_home / "cache")
    qtbot.addWidget(w)
    w.show()
    assert "not downloaded yet" in w.state.text() and w.button.isVisible()
    w.confirm_download()
    assert w.confirm_box is not None and "intfloat/multilingual-e5-base" in w.confirm_box.text()
    assert "1.1 GB" in w.confirm_box.text() and not w.runner.running
    w.confirm_box.reject()
    assert not w.runner.running
    snap = twin_home / "cache/hf/models--intfloat--multilingual-e5-base/snapshots/abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    w.update_state()
    assert "ready" in w.state.text() and not w.button.isVisible()


def test_settings_open_the_model_page_and_the_embedding_row(shell: Any, qtbot: Any, run_until: Any,
                                                            tmp_path: Path) -> None:
    dialog = shell.open_settings()
    assert dialog.embedding_download.name == dialog.embedding.text()
    dialog.open_models()
    page = dialog.model_page
    run_until(lambda: page.table.rowCount() > 0, what="the model list")
    assert dialog.models_dialog.isVisible() and page.selected() is not None
    chosen = tmp_path / "chosen.gguf"
    page.model_chosen.emit(str(chosen))
    assert dialog.model_path.text() == str(chosen)
    dialog.models_dialog.reject()
    dialog.reject()


def test_first_run_offers_the_catalog_and_the_embedding_model(shell: Any, run_until: Any) -> None:
    wizard = shell.open_wizard()
    run_until(lambda: wizard.models.table.rowCount() > 0, what="the model list")
    assert sum(wizard.models.table.item(r, 0).text().startswith("★") for r in range(wizard.models.table.rowCount())) == 1
    assert "Embedding model" in wizard.embedding_download.state.text()
    wizard.models.model_chosen.emit("/somewhere/model.gguf")
    assert wizard.model_path.text() == "/somewhere/model.gguf"
    wizard.reject()


def test_status_bar_says_auto_and_why(qapp: Any) -> None:
    from twin.core.llm.engine import ModelInfo, OffloadInfo
    from twin.ui.model_bridge import describe

    reason = "auto: 41 of 49 layers on NVIDIA GeForce RTX 4090 (23.9 GB of 25.3 GB free; …)"
    info = ModelInfo("/m/Qwen3-30B-A3B-Q6_K.gguf", "Qwen3-30B-A3B", "qwen3moe", "instruct", None, 40960, 32768,
                     offload=OffloadInfo(True, 41, 41, 49, True, auto_reason=reason,
                                         warnings=("The GPU ran out of memory with 49 layers; …",)))
    text = describe(info)
    assert "GPU 41/49" in text and "(auto)" in text
    plain = ModelInfo("/m/x.gguf", "x", "qwen3", "instruct", None, 4096, 4096,
                      offload=OffloadInfo(True, 20, 20, 37, True))
    assert "(auto)" not in describe(plain)


def test_embedding_download_from_the_window(qtbot: Any, twin_home: Path, hub_factory: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from twin.ui.model_page import EmbeddingDownload

    files = [tmp_path / "config.json", tmp_path / "model.safetensors"]
    files[0].write_text('{"model_type": "bert"}')
    files[1].write_bytes(os.urandom(1 << 20))
    hub_factory(files)
    w = EmbeddingDownload("someone/e5-test", twin_home / "cache", size_bytes=1 << 20)
    qtbot.addWidget(w)
    w.show()
    w.confirm_download()
    assert "127.0.0.1" in w.confirm_box.text() and not w.runner.running
    with qtbot.waitSignal(w.finished, timeout=60000) as sig:
        w.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert "models--someone--e5-test" in sig.args[0]
    assert "ready" in w.state.text() and "Downloaded:" in w.progress.status.text() and not w.button.isVisible()
