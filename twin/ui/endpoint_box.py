"""Settings → Model, "on a server": an OpenAI-compatible server and its connection test.

The fields of ``llm.backend = 'openai'`` (base URL, model name, API key, whether the server
may be on another computer) and a "Test connection" button that asks the server's
``/v1/models`` on a worker thread (:func:`twin.app.endpoint_check.check_endpoint`, the same
client and network-guard permission as the chat) and says OK, or what is wrong, in the
window's language. The result comes back to the GUI thread through a queued signal.

Signals:
    tested(object): the :class:`~twin.app.endpoint_check.EndpointCheck` of the last test.
"""

from __future__ import annotations


from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from twin.app.background import Background
from twin.app.endpoint_check import EndpointCheck, check_endpoint
from twin.settings import Settings
from twin.ui.jobs import Delivery, submit_off_gui


class EndpointBox(QWidget):
    tested = Signal(object)

    def __init__(self, s: Settings, parent: QWidget | None = None, *, background: Background | None = None):
        super().__init__(parent)
        self.background = background  # the app's pool for the check (None: a pool per check)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.url = QLineEdit(s.llm.endpoint_url, placeholderText="http://127.0.0.1:8080/v1")
        self.url.setToolTip(self.tr("The server's OpenAI-compatible address, usually ending in /v1 "
                                    "(llama-server, python -m llama_cpp.server, vLLM, Ollama)"))
        form.addRow(self.tr("Server address"), self.url)
        self.model = QLineEdit(s.llm.endpoint_model, placeholderText=self.tr("the server's default"))
        form.addRow(self.tr("Model name"), self.model)
        self.api_key = QLineEdit(s.llm.endpoint_api_key, placeholderText=self.tr("none"))
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setToolTip(self.tr("Kept in settings.toml; or set the TWIN_ENDPOINT_API_KEY environment variable"))
        if "llm.endpoint_api_key" in s.env_overrides:
            self.api_key.setReadOnly(True)
            self.api_key.setToolTip(self.tr("Set by the TWIN_ENDPOINT_API_KEY environment variable"))
        form.addRow(self.tr("API key"), self.api_key)
        self.remote = QCheckBox(self.tr("Allow a server on another computer (your questions and the memories "
                                        "sent with them go to it, and only to it)"))
        self.remote.setChecked(s.llm.endpoint_remote)
        form.addRow("", self.remote)
        row = QHBoxLayout()
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.clicked.connect(self.test)
        row.addWidget(self.test_button)
        row.addStretch(1)
        form.addRow("", row)
        self.result = QLabel(objectName="Muted", wordWrap=True)
        form.addRow("", self.result)
        self.last: EndpointCheck | None = None
        self._delivery = Delivery(self)

    def apply(self, s: Settings) -> None:
        """Write the fields into ``s`` (the dialog's edited copy)."""
        s.llm.endpoint_url = self.url.text().strip()
        s.llm.endpoint_model = self.model.text().strip()
        if "llm.endpoint_api_key" not in s.env_overrides:
            s.llm.endpoint_api_key = self.api_key.text().strip()
        s.llm.endpoint_remote = self.remote.isChecked()

    # -- the test ---------------------------------------------------------------------------

    def test(self) -> None:
        """Ask the server for its models, off the GUI thread; the answer shows below the button."""
        args = (self.url.text(), self.model.text(), self.api_key.text())
        remote = self.remote.isChecked()
        self.test_button.setEnabled(False)
        self.result.setText(self.tr("Connecting to {url}…").format(url=args[0].strip()))

        def run() -> EndpointCheck:
            try:
                return check_endpoint(*args, allow_remote=remote)
            except Exception as e:  # noqa: BLE001 - thread boundary: shown, never raised into Qt
                return EndpointCheck("unreachable", args[0].strip(), f"{e.__class__.__name__}: {e}")

        # shown when it arrives, unless the dialog is gone by then
        self._delivery.deliver(submit_off_gui(self.background, run), lambda job: self._show(job.result()))

    @Slot(object)
    def _show(self, r: EndpointCheck) -> None:
        self.last = r
        self.test_button.setEnabled(True)
        self.result.setText(("✓ " if r.kind == "ok" else "⚠ ") + self.describe(r))
        self.tested.emit(r)

    def describe(self, r: EndpointCheck) -> str:
        """``r`` in the window's language (``EndpointCheck.message`` is the English of the same)."""
        models = ", ".join(r.models[:5]) + (" …" if len(r.models) > 5 else "")
        texts = {
            "ok": self.tr("Connected: {models}").format(models=models) if r.models
            else self.tr("Connected; the server lists no models."),
            "model_missing": self.tr("Connected, but the server does not offer the model '{model}' (it offers: "
                                     "{models}). Leave the model name empty to use its default.")
            .format(model=r.detail, models=models or "—"),
            "bad_url": self.tr("Not a server address: use e.g. http://127.0.0.1:8080/v1"),
            "remote": self.tr("This server is on another computer: allow that above first."),
            "blocked": self.tr("twin's network guard blocked the connection: {detail}").format(detail=r.detail),
            "refused": self.tr("Nothing answers there (connection refused): is the server running, on this port?"),
            "no_host": self.tr("The server's name is not known: {detail}").format(detail=r.detail),
            "timeout": self.tr("The server did not answer in time."),
            "auth": self.tr("The server refused the API key (HTTP {code}).").format(code=r.detail),
            "not_found": self.tr("No /models there (HTTP 404): the address usually ends in /v1."),
            "http": self.tr("The server answered with an error: HTTP {code}").format(code=r.detail),
            "not_openai": self.tr("Something answered, but not an OpenAI-compatible server."),
            "unreachable": self.tr("Cannot reach the server: {detail}").format(detail=r.detail),
        }
        return texts.get(r.kind, r.message)
