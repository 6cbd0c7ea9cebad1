"""Entry point of the frozen desktop app (PyInstaller runs this file as ``__main__``)."""

from twin.ui.main import main

if __name__ == "__main__":
    raise SystemExit(main())
