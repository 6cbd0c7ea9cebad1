"""One window per user and data folder: a second ``twin-gui`` hands its files to the first.

With the window autostarted in the tray, "Open with twin" in the file manager starts
``twin-gui FILE…`` again. That second process connects to the first over a local socket
(:class:`QLocalServer`, named after the user and the config folder), sends the files'
absolute paths and exits; the first brings its window up and takes the files as if they
were dropped on it. No running window: the second process becomes the window itself.

Protocol: one JSON line, ``{"files": ["/abs/path", …]}`` (an empty list just shows the window).

Signals of :class:`InstanceServer`:
    files(list): paths another ``twin-gui`` sent (strings; may be empty).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("twin.ui")
MAX_MESSAGE = 1 << 20


def server_name(config_dir: Path) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    digest = hashlib.sha256(str(config_dir.resolve()).encode("utf-8")).hexdigest()[:12]
    return f"twin-{user}-{digest}"


def forward(name: str, files: Sequence[str], timeout_ms: int = 1500) -> bool:
    """Hand ``files`` to a running window; False when none answers (then be the window)."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    payload = (json.dumps({"files": [str(Path(f).expanduser().absolute()) for f in files]}) + "\n").encode("utf-8")
    sock.write(payload)
    ok = sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        sock.waitForDisconnected(timeout_ms)
    return ok


class InstanceServer(QObject):
    files = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(name)  # a socket file left by a crashed window (nobody answered)
        if not self.server.listen(name):
            log.warning("single-window socket %s: %s (a second twin-gui will open its own window)",
                        name, self.server.errorString())
        self.server.newConnection.connect(self._accept)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            buffer = bytearray()

            def read(sock: QLocalSocket = sock, buffer: bytearray = buffer) -> None:
                buffer += bytes(sock.readAll().data())
                if b"\n" not in buffer and len(buffer) < MAX_MESSAGE:
                    return
                sock.readyRead.disconnect()
                sock.disconnectFromServer()
                sock.deleteLater()
                try:
                    files = json.loads(bytes(buffer).split(b"\n", 1)[0].decode("utf-8"))["files"]
                    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                        raise ValueError("files is not a list of strings")
                except (ValueError, KeyError, TypeError) as e:
                    log.warning("ignored a bad message from another twin-gui: %s", e)
                    return
                log.info("another twin-gui handed over %d file(s)", len(files))
                self.files.emit(files)

            sock.readyRead.connect(read)
            if sock.bytesAvailable():
                read()

    def close(self) -> None:
        self.server.close()
