#!/usr/bin/env bash
# Build the Linux installers in one command: a .deb (installs to /opt/thingscope, with a launcher and a menu
# entry) and a .tar.gz of the one-folder app. Artefacts land in packaging/out/.
# Needs: the app installed in the Python you run this with (pip install -e '.[packaging]'), dpkg-deb, binutils.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
OUT="packaging/out"
VERSION="$("$PY" -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"

rm -rf "$OUT/dist" "$OUT/build" "$OUT/deb"
mkdir -p "$OUT"
"$PY" packaging/make_icons.py "$OUT/icons" >/dev/null
THINGSCOPE_ICONS="$OUT/icons" THINGSCOPE_VERSION="$VERSION" \
  "$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$OUT/dist" --workpath "$OUT/build" \
  packaging/thingscope.spec

TARBALL="$OUT/thingscope-$VERSION-linux-$ARCH.tar.gz"
tar -C "$OUT/dist" -czf "$TARBALL" thingscope

PKG="$OUT/deb/thingscope_${VERSION}_${ARCH}"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" "$PKG/usr/share/metainfo"
cp -a "$OUT/dist/thingscope" "$PKG/opt/thingscope"
# The launcher finds the app relative to itself, so it also works from a scratch root (dpkg -x).
cat > "$PKG/usr/bin/thingscope" <<'LAUNCHER'
#!/bin/sh
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/../../opt/thingscope/thingscope" "$@"
LAUNCHER
chmod 755 "$PKG/usr/bin/thingscope"
install -m 644 resources/thingscope.desktop "$PKG/usr/share/applications/thingscope.desktop"
install -m 644 resources/io.thingscope.Thingscope.metainfo.xml "$PKG/usr/share/metainfo/"
for size in 16 24 32 48 64 128 256 512; do
  dir="$PKG/usr/share/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  install -m 644 "$OUT/icons/thingscope-$size.png" "$dir/thingscope.png"
done
mkdir -p "$PKG/usr/share/icons/hicolor/scalable/apps"
install -m 644 resources/thingscope.svg "$PKG/usr/share/icons/hicolor/scalable/apps/thingscope.svg"

INSTALLED_KB="$(du -sk "$PKG" --exclude=DEBIAN | cut -f1)"
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: thingscope
Version: $VERSION
Section: net
Priority: optional
Architecture: $ARCH
Installed-Size: $INSTALLED_KB
Depends: libc6, libgl1, libegl1, libxkbcommon0, libxkbcommon-x11-0, libfontconfig1, libdbus-1-3, libglib2.0-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1
Maintainer: Thingscope developers <dev@thingscope.invalid>
Homepage: https://thingscope.invalid
Description: desktop console for IoT fleets (ThingsBoard, PocketBase)
 Find a device among thousands, edit its attributes (also in bulk, with preview
 and undo), and watch its telemetry live. Includes a self-contained demo fleet.
CONTROL
DEB="$OUT/thingscope_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$PKG" "$DEB" >/dev/null

echo "built $DEB"
echo "built $TARBALL"
echo "installed size: $(du -sh "$OUT/dist/thingscope" | cut -f1) unpacked ($(du -sh "$DEB" | cut -f1) .deb, $(du -sh "$TARBALL" | cut -f1) .tar.gz)"
