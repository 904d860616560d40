#!/usr/bin/env bash
# `just dist`: the packages for the staff (issue 20).
#
#   dist/beitraege-<version>-windows-x86_64.zip   beitraege.exe, Handbuch.html, an empty
#                                                  beitraege.toml, Lizenzen/, Beispiel/
#   dist/beitraege-<version>-linux-x86_64.tar.gz  the same with the Linux program
#
# Needs: the Rust target x86_64-pc-windows-gnu (rustup target add), gcc-mingw-w64-x86-64,
# pandoc (the handbook to HTML), zip, python3. `DIST_SKIP_LINUX=1` builds the zip only.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
WIN_EXE=target/x86_64-pc-windows-gnu/release/beitraege.exe
cargo build --release --locked --target x86_64-pc-windows-gnu --bin beitraege
if [ "${DIST_SKIP_LINUX:-0}" != 1 ]; then
  cargo build --release --locked --bin beitraege
fi
mkdir -p dist
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# What both packages hold besides the program.
common() {
  local d=$1 target=$2
  mkdir -p "$d/Lizenzen" "$d/Beispiel/Eingang/2023"
  # The handbook as one HTML file, pictures embedded (opens in any browser, prints on A4).
  (cd docs/handbuch && pandoc --standalone --self-contained --toc --toc-depth=2 --shift-heading-level-by=-1 \
    --metadata lang=de-CH --css=handbuch.css \
    -o "$d/Handbuch.html" README.md)
  cp assets/fonts/LICENSE-LiberationSans.txt "$d/Lizenzen/Schrift_LiberationSans.txt"
  python3 tools/licences.py "$target" > "$d/Lizenzen/Bibliotheken.txt"
  # The sample year as the handbook's layout: one inbox root, a folder per year, the
  # receipt journal at the top.
  cp -r samples/2023/inbox/. "$d/Beispiel/Eingang/2023/"
  rm "$d/Beispiel/Eingang/2023/Eingangsjournal.csv"
  { head -n1 samples/2023/inbox/Eingangsjournal.csv; tail -n +2 samples/2023/inbox/Eingangsjournal.csv | sed 's|^|2023/|'; } \
    > "$d/Beispiel/Eingang/Eingangsjournal.csv"
  cp samples/2023/Stammdaten.xlsx "$d/Beispiel/Stammdaten.xlsx"
}

# The empty settings file: the program's own template (every setting commented out).
LINUX_BIN=target/release/beitraege
[ -x "$LINUX_BIN" ] || LINUX_BIN=target/debug/beitraege
[ -x "$LINUX_BIN" ] || cargo build --locked --bin beitraege
"$LINUX_BIN" einstellungen --neu --datei "$STAGE/beitraege.toml" >/dev/null

W="$STAGE/win/beitraege-$VERSION"
mkdir -p "$W"
cp "$WIN_EXE" "$W/beitraege.exe"
cp "$STAGE/beitraege.toml" "$W/beitraege.toml"
common "$W" x86_64-pc-windows-gnu
ZIP="dist/beitraege-$VERSION-windows-x86_64.zip"
rm -f "$ZIP"
(cd "$STAGE/win" && TZ=UTC find "beitraege-$VERSION" -exec touch -d 2000-01-01T00:00:00 {} + && zip -qrX -9 "$OLDPWD/$ZIP" "beitraege-$VERSION")
echo "$ZIP: $(du -k "$ZIP" | cut -f1) KiB"

if [ "${DIST_SKIP_LINUX:-0}" != 1 ]; then
  L="$STAGE/linux/beitraege-$VERSION"
  mkdir -p "$L"
  cp target/release/beitraege "$L/beitraege"
  sed 's/\r$//' "$STAGE/beitraege.toml" > "$L/beitraege.toml"
  common "$L" x86_64-unknown-linux-gnu
  TGZ="dist/beitraege-$VERSION-linux-x86_64.tar.gz"
  tar -C "$STAGE/linux" --sort=name --mtime=2000-01-01 --owner=0 --group=0 --numeric-owner -czf "$TGZ" "beitraege-$VERSION"
  echo "$TGZ: $(du -k "$TGZ" | cut -f1) KiB"
fi
