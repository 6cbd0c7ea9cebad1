#!/usr/bin/env python3
"""Render the app icon's PNG sizes (16–512 px) and a Windows .ico from ``icons/twin.svg``.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_icons.py

Uses Qt's own SVG renderer (QSvgRenderer), so the PNGs look exactly like the SVG that the
app loads at run time. Writes ``icons/twin-<size>.png`` and ``icons/twin.ico`` next to it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
HERE = Path(__file__).resolve().parent / "icons"


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(HERE / "twin.svg"))
    if not renderer.isValid():
        print("twin.svg is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        out = HERE / f"twin-{size}.png"
        if not image.save(str(out)):
            print(f"cannot write {out}", file=sys.stderr)
            return 1
        print(out.relative_to(HERE.parent.parent))
    # Windows: one .ico holding the usual sizes (Qt writes .ico through its imageformats plugin)
    ico = QImage(str(HERE / "twin-256.png"))
    if ico.save(str(HERE / "twin.ico")):
        print((HERE / "twin.ico").relative_to(HERE.parent.parent))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
