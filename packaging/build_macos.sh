#!/usr/bin/env bash
# Build Thingscope.app and wrap it in a .dmg, in one command (macOS only: needs hdiutil).
# Needs the app installed in the Python you run this with: pip install -e '.[packaging]'.
# Artefacts land in packaging/out/.  Not signed or notarized: set CODESIGN_IDENTITY to sign the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
OUT="packaging/out"
VERSION="$("$PY" -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")"
ARCH="$(uname -m)"

rm -rf "$OUT/dist" "$OUT/build" "$OUT/dmg"
mkdir -p "$OUT"
"$PY" packaging/make_icons.py "$OUT/icons" >/dev/null
THINGSCOPE_ICONS="$OUT/icons" THINGSCOPE_VERSION="$VERSION" \
  "$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$OUT/dist" --workpath "$OUT/build" \
  packaging/thingscope.spec

APP="$OUT/dist/Thingscope.app"
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --sign "$CODESIGN_IDENTITY" "$APP"
fi
mkdir -p "$OUT/dmg"
cp -R "$APP" "$OUT/dmg/"
ln -s /Applications "$OUT/dmg/Applications"
DMG="$OUT/Thingscope-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
hdiutil create -volname "Thingscope $VERSION" -srcfolder "$OUT/dmg" -ov -format UDZO "$DMG"
echo "built $DMG"
echo "installed size: $(du -sh "$APP" | cut -f1)"
