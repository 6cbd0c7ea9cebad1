#!/usr/bin/env bash
# An AppImage of twin from the PyInstaller build (one script; run from the repository root):
#
#   .venv/bin/pip install -e '.[package]'                  # PyInstaller
#   packaging/appimage.sh                                  # builds dist/twin/ if missing, then the AppImage
#
# Steps: dist/twin/ (packaging/twin.spec) -> build/AppDir (AppRun, twin.desktop, icons,
# AppStream metainfo, usr/lib/twin = the folder) -> dist/twin-<version>-x86_64.AppImage
# with appimagetool. appimagetool is not on PyPI nor in Debian: put it on PATH or point
# APPIMAGETOOL at it (https://github.com/AppImage/appimagetool/releases; the AppImage of
# appimagetool itself runs with APPIMAGE_EXTRACT_AND_RUN=1 where FUSE is missing). Without it
# the script stops after the AppDir, which runs as is: build/AppDir/AppRun.
#
# Inside the AppImage, `twin-gui` is the default; `AppRun twin …` (or a symlink named twin
# to the AppImage) runs the command line.
#
# Environment: DIST=dist  BUILD=build  APPIMAGETOOL=/path/to/appimagetool
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${DIST:-dist}
build=${BUILD:-build}
py=${PYTHON:-.venv/bin/python}
version=$("$py" -c "import twin; print(twin.__version__)")
arch=$(uname -m)

if [[ ! -x "$dist/twin/twin-gui" ]]; then
    echo "appimage: building $dist/twin with PyInstaller (several minutes)"
    "$py" -m PyInstaller packaging/twin.spec --noconfirm --distpath "$dist" --workpath "$build/pyinstaller"
fi

appdir="$build/AppDir"
rm -rf "$appdir"
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" "$appdir/usr/share/metainfo"
cp -a "$dist/twin" "$appdir/usr/lib/twin"

cat > "$appdir/AppRun" <<'EOF'
#!/bin/sh
# twin's AppImage entry: the window by default; "AppRun twin ARGS" or a link named twin: the CLI.
here="$(dirname "$(readlink -f "$0")")"
name="$(basename "${ARGV0:-$0}")"
if [ "$name" = "twin" ] || [ "${1:-}" = "twin" ]; then
    [ "${1:-}" = "twin" ] && shift
    exec "$here/usr/lib/twin/twin" "$@"
fi
exec "$here/usr/lib/twin/twin-gui" "$@"
EOF
chmod +x "$appdir/AppRun"

# The desktop entry, icons and metainfo: the same ones `twin install-desktop` writes, with
# Exec=twin-gui (appimagetool and AppImage integrators rewrite it to the AppImage's path).
"$py" - "$appdir" <<'EOF'
import sys
from pathlib import Path

from twin.app import desktop_entry

appdir = Path(sys.argv[1])
entry = desktop_entry.desktop_entry(Path("twin-gui")).replace("TryExec=twin-gui\n", "")
(appdir / "twin.desktop").write_text(entry, encoding="utf-8")
(appdir / "usr/share/applications/twin.desktop").write_text(entry, encoding="utf-8")
(appdir / f"usr/share/metainfo/{desktop_entry.COMPONENT_ID}.appdata.xml").write_text(desktop_entry.metainfo(),
                                                                                    encoding="utf-8")
EOF
cp resources/icons/twin-256.png "$appdir/twin.png"
cp resources/icons/twin-256.png "$appdir/.DirIcon"
for s in 16 22 24 32 48 64 128 256 512; do
    install -Dm644 "resources/icons/twin-$s.png" "$appdir/usr/share/icons/hicolor/${s}x${s}/apps/twin.png"
done
install -Dm644 resources/icons/twin.svg "$appdir/usr/share/icons/hicolor/scalable/apps/twin.svg"
echo "appimage: AppDir ready: $appdir (try: $appdir/AppRun --help)"

tool=${APPIMAGETOOL:-$(command -v appimagetool || command -v appimagetool-"$arch".AppImage || true)}
if [[ -z "$tool" ]]; then
    echo "appimage: appimagetool not found (not on PyPI nor in Debian): put it on PATH or set APPIMAGETOOL," >&2
    echo "          then run this script again. The AppDir above is complete and runs as is." >&2
    exit 3
fi
out="$dist/twin-$version-$arch.AppImage"
ARCH="$arch" "$tool" --no-appstream "$appdir" "$out"
echo "appimage: $out ($(du -h "$out" | cut -f1))"
