"""Entry point of the frozen app: one script for both executables of the folder.

PyInstaller builds ``twin-gui`` (the window) and ``twin`` (the command line) from this file;
which one runs is decided by the executable's name. Both first run any helper process asked
for (``--helper NAME …``, multiprocessing's child): see :mod:`twin.helpers`.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    if Path(sys.executable).name.lower().startswith("twin-gui"):
        from twin.ui.main import main
    else:
        from twin.cli.main import main
    raise SystemExit(main())
