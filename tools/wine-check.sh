#!/usr/bin/env bash
# The Windows build, checked under Wine against the Linux build (issue 20).
#
#   bash tools/wine-check.sh [WINDOWS_EXE] [LINUX_BINARY]
#
# Defaults: target/x86_64-pc-windows-gnu/release/beitraege.exe (built here if missing) and
# target/debug/beitraege. Needs wine (Debian's, 8.0) and gcc-mingw-w64-x86-64; as root it
# also releases the payout runs as a second account (useradd, runuser).
#
# What it does, on a copy of the sample year laid out as the handbook says (one inbox root
# with a folder per year and the receipt journal at its top), in folders with spaces and
# umlauts, reached under Wine through a drive letter (D:) with backslashes:
#   1. `run` of 2023: Linux with options, Windows with no option at all (the settings file
#      beside beitraege.exe names the folders): the manifests' outputs must be identical,
#      byte for byte (SHA-256), and so must the inputs' hashes.
#   2. a payout run booked (31.03.2023) by this account, released by a second account; the
#      same on both sides: the run's JSON, the payment file (but its creation time) and the
#      statement of `konto` are compared.
#   3. Windows cases: a ledger on a UNC path is refused (exit 2); a form held open by
#      another program without sharing (as Excel does) becomes a DATEI_UNLESBAR finding and
#      the rest is evaluated; a second `run` into the same output folder replaces it (no
#      renameat2 on Windows: two renames) and keeps a file the program did not write.
#   4. the library's unit tests of the settings, the network check and the output folder,
#      cross-compiled and run under Wine.
# The ProcessPrng stand-in (tools/wine/processprng.c) is built here and never shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EXE=${1:-target/x86_64-pc-windows-gnu/release/beitraege.exe}
LINUX=${2:-target/debug/beitraege}
EXE=$(realpath "$EXE" 2>/dev/null || echo "$ROOT/$EXE")
LINUX=$(realpath "$LINUX")
if [ ! -f "$EXE" ]; then
  cargo build --release --locked --target x86_64-pc-windows-gnu --bin beitraege
fi
WORK=$(mktemp -d /tmp/beitraege-wine-XXXXXX)
trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
fail() { echo "wine-check: FEHLER: $*" >&2; exit 1; }
step() { echo "wine-check: $*"; }

# --- the program folder: exe, stand-in DLL, settings ---------------------------------
PROG="$WORK/Programm"
mkdir -p "$PROG"
cp "$EXE" "$PROG/beitraege.exe"
x86_64-w64-mingw32-gcc -shared -O2 -o "$PROG/bcryptprimitives.dll" tools/wine/processprng.c -ladvapi32
x86_64-w64-mingw32-gcc -O2 -municode -o "$WORK/sperren.exe" tools/wine/sperren.c

export WINEPREFIX="$WORK/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree,mshtml="
wineboot -i >/dev/null 2>&1 || true
# D: is the data folder (a drive letter as on an office PC).
DATA="$WORK/Beiträge Daten"
mkdir -p "$DATA"
ln -sfn "$DATA" "$WINEPREFIX/dosdevices/d:"
win() { wine "$PROG/beitraege.exe" "$@"; }

# --- the inbox root: 2023/ = the sample inbox, the journal at the top -------------------
IN="$DATA/Eingang"
mkdir -p "$IN/2023"
cp -r samples/2023/inbox/. "$IN/2023/"
mv "$IN/2023/Eingangsjournal.csv" "$WORK/journal.csv"
{ head -n1 "$WORK/journal.csv"; tail -n +2 "$WORK/journal.csv" | sed 's|^|2023/|'; } > "$IN/Eingangsjournal.csv"
cp samples/2023/Stammdaten.xlsx "$DATA/Stammdaten Ämter.xlsx"
mkdir -p "$DATA/Ausgaben Windows" "$DATA/Ausgaben Linux" "$DATA/Buchhaltung"
# The settings beside the program: Windows paths in single quotes, drive letter, umlauts.
printf '%s\r\n' \
  "eingang = 'D:\\Eingang'" \
  "stammdaten = 'D:\\Stammdaten Ämter.xlsx'" \
  "ausgabe = 'D:\\Ausgaben Windows'" \
  "buchhaltung = 'D:\\Buchhaltung\\buchhaltung.sqlite'" \
  "jahr = 2023" > "$PROG/beitraege.toml"

LOUT="$DATA/Ausgaben Linux"
LLEDGER="$WORK/linux-buchhaltung/buchhaltung.sqlite"
mkdir -p "$(dirname "$LLEDGER")"
lin() { "$LINUX" "$@"; }

# --- 1. run -----------------------------------------------------------------------------
step "run 2023 (Linux)"
lin run --ohne-fortschritt --datum 15.03.2024 --jahr 2023 --eingang "$IN" --stammdaten "$DATA/Stammdaten Ämter.xlsx" \
  --ausgabe "$LOUT/Auswertung_2023" >/dev/null
step "run 2023 (Windows, nur Einstellungen)"
win run --ohne-fortschritt --datum 15.03.2024 >/dev/null || fail "run unter Wine"
python3 - "$LOUT/Auswertung_2023" "$DATA/Ausgaben Windows/Auswertung_2023" <<'EOF'
import json, os, re, sys
# Every output's SHA-256 is the same on both sides, but the e-mail drafts': their MIME
# boundary is random (not guessable), so a draft is compared with its boundary replaced.
la, wa = sys.argv[1:3]
a, b = (json.load(open(os.path.join(d, "manifest.json"), encoding="utf-8")) for d in (la, wa))
def plain(m):
    return [x for x in m["ausgaben"] if not x["datei"].endswith(".eml")]
if plain(a) != plain(b):
    diff = [x for x, y in zip(plain(a), plain(b)) if x != y] or (plain(a), plain(b))
    sys.exit(f"manifest ausgaben differ: {diff}")
drafts = sorted(x["datei"] for x in a["ausgaben"] if x["datei"].endswith(".eml"))
if drafts != sorted(x["datei"] for x in b["ausgaben"] if x["datei"].endswith(".eml")):
    sys.exit("the drafts differ in name")
def normal(path):
    text = open(path, "rb").read()
    m = re.search(rb'boundary="([^"]+)"', text)
    return text.replace(m.group(1), b"BOUNDARY") if m else text
for d in drafts:
    if normal(os.path.join(la, d)) != normal(os.path.join(wa, d)):
        sys.exit(f"draft {d} differs beyond its MIME boundary")
if [i["sha256"] for i in a["eingaben"]] != [i["sha256"] for i in b["eingaben"]]:
    sys.exit("the inputs' hashes differ")
print(f"wine-check: run: {len(a['ausgaben'])} Ausgaben gleich (SHA-256; {len(drafts)} Entwürfe bis auf die MIME-Grenze)")
EOF
cmp "$LOUT/Auswertung_2023/befunde.json" "$DATA/Ausgaben Windows/Auswertung_2023/befunde.json" || fail "befunde.json differ"

# --- 3a. the output folder replaced again, a foreign file kept --------------------------
step "zweiter run in denselben Ausgabeordner (Windows)"
echo "meine Notiz" > "$DATA/Ausgaben Windows/Auswertung_2023/Notiz.txt"
win run --ohne-fortschritt --datum 16.03.2024 >/dev/null || fail "zweiter run unter Wine"
grep -q '"stand": "16.03.2024"' "$DATA/Ausgaben Windows/Auswertung_2023/manifest.json" || fail "not replaced"
[ "$(cat "$DATA/Ausgaben Windows/Auswertung_2023/Notiz.txt")" = "meine Notiz" ] || fail "foreign file lost"
ls -A "$DATA/Ausgaben Windows" | grep -q '\.neu-\|\.alt-' && fail "leftovers of the swap"

# --- 3b. a form held open without sharing (Excel) ---------------------------------------
step "gesperrte Datei (Windows)"
LOCKED="$IN/2023/2023-07/$(ls "$IN/2023/2023-07" | grep -m1 '\.xlsx$')"
LOCKED_REL="2023/2023-07/$(basename "$LOCKED")"
WLOCKED="D:\\Eingang\\2023\\2023-07\\$(basename "$LOCKED")"
# The holder reads its standard input from one pipe (closing it releases the file) and
# prints «gesperrt» into another once it holds the file: the script blocks on that line,
# no waiting on time.
mkfifo "$WORK/halten" "$WORK/gesperrt"
wine "$WORK/sperren.exe" "$WLOCKED" < "$WORK/halten" > "$WORK/gesperrt" 2>"$WORK/sperren.err" &
HOLDER=$!
exec 3>"$WORK/halten" 4<"$WORK/gesperrt"
read -r held <&4 || held=""
[ "${held%$'\r'}" = gesperrt ] || fail "the holder did not lock the file: $held $(cat "$WORK/sperren.err")"
win run --ohne-fortschritt --datum 15.03.2024 --ausgabe 'D:\Ausgaben Windows\gesperrt' >/dev/null || fail "run with a locked file"
exec 3>&- 4<&-
wait "$HOLDER" || true
python3 - "$DATA/Ausgaben Windows/gesperrt/befunde.json" "$DATA/Ausgaben Windows/gesperrt/dateien.json" "$LOCKED_REL" <<'EOF'
import json, sys
befunde, dateien, rel = json.load(open(sys.argv[1], encoding="utf-8")), json.load(open(sys.argv[2], encoding="utf-8")), sys.argv[3]
codes = [b["code"] for b in befunde if b.get("datei") == rel]
assert codes == ["DATEI_UNLESBAR"], (rel, codes)
states = {d["datei"]: d["status"] for d in dateien}
assert states[rel] == "abgelehnt", states.get(rel)
assert sum(1 for s in states.values() if s == "verarbeitet") > 200, "the rest is evaluated"
print("wine-check: gesperrte Datei: DATEI_UNLESBAR, der Rest ausgewertet")
EOF

# --- 3c. a ledger on a network share ----------------------------------------------------
step "Buchhaltung auf einer Netzwerkfreigabe (Windows)"
set +e
win konto --buchhaltung '\\server\freigabe\buchhaltung.sqlite' >/dev/null 2>"$WORK/unc.err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "UNC ledger: exit $rc"

# --- 2. payout run: book, release by a second account, konto ---------------------------
step "Zahlungslauf 31.03.2023 buchen (Linux, Windows)"
PAY=(--stichtag 31.03.2023 --buchungsdatum 31.03.2023 --ab-jahr 2023)
lin zahlungslauf --buchen "${PAY[@]}" --eingang "$IN" --stammdaten "$DATA/Stammdaten Ämter.xlsx" \
  --buchhaltung "$LLEDGER" --ausgabe "$LOUT/Zahlungslaeufe" >/dev/null
win zahlungslauf --buchen "${PAY[@]}" >/dev/null || fail "zahlungslauf --buchen unter Wine"
L="$LOUT/Zahlungslaeufe/2023-03-31"
W="$DATA/Ausgaben Windows/Zahlungslaeufe/2023-03-31"
cmp "$L/Zahlungslauf_2023-03-31.json" "$W/Zahlungslauf_2023-03-31.json" || fail "payout JSON differ"

RELEASED=no
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v runuser >/dev/null; then
  U=btrg-wine-pruefer
  id "$U" >/dev/null 2>&1 || useradd -M -N -s /usr/sbin/nologin "$U"
  UHOME="$WORK/home-pruefer"
  mkdir -p "$UHOME"
  chown "$U" "$UHOME"
  chmod a+rx "$WORK" "$PROG"
  chmod -R a+rwX "$DATA" "$(dirname "$LLEDGER")"
  step "Freigabe durch ein zweites Konto ($U; Linux, Windows)"
  runuser -u "$U" -- "$LINUX" zahlungslauf --freigeben --stichtag 31.03.2023 --buchungsdatum 31.03.2023 \
    --stammdaten "$DATA/Stammdaten Ämter.xlsx" --buchhaltung "$LLEDGER" --ausgabe "$LOUT/Zahlungslaeufe" >/dev/null
  runuser -u "$U" -- env HOME="$UHOME" WINEPREFIX="$UHOME/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="$WINEDLLOVERRIDES" \
    sh -c 'wineboot -i >/dev/null 2>&1; ln -sfn "$1" "$WINEPREFIX/dosdevices/d:"; wine "$2" zahlungslauf --freigeben --stichtag 31.03.2023 --buchungsdatum 31.03.2023' \
    _ "$DATA" "$PROG/beitraege.exe" >/dev/null || fail "Freigabe unter Wine"
  # The payment file but its creation time (the moment of the release).
  strip() { sed 's|<CreDtTm>[^<]*</CreDtTm>||' "$1"; }
  cmp <(strip "$L/pain001_2023-03-31.xml") <(strip "$W/pain001_2023-03-31.xml") || fail "pain.001 differ"
  RELEASED=yes
else
  echo "wine-check: keine Freigabe durch ein zweites Konto (nicht root oder ohne useradd/runuser)"
fi

step "konto (Linux, Windows)"
lin konto --datum 15.03.2024 --stammdaten "$DATA/Stammdaten Ämter.xlsx" --buchhaltung "$LLEDGER" --ausgabe "$LOUT/Kontoauszuege" >/dev/null
win konto --datum 15.03.2024 >/dev/null || fail "konto unter Wine"
python3 - "$LOUT/Kontoauszuege" "$DATA/Ausgaben Windows/Kontoauszuege" <<'EOF'
import hashlib, os, sys
def files(root):
    out = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.startswith(".beitraege"):
                continue
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out
a, b = files(sys.argv[1]), files(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
# The statement's workbook carries the booking's moment (when it was booked); the
# invoices and the JSON must match.
same = [k for k in a if a[k] == b[k]]
print(f"wine-check: konto: {len(a)} Dateien, gleich: {', '.join(sorted(same)) or '-'}")
EOF

# --- 4. unit tests under Wine -----------------------------------------------------------
if [ "${WINE_UNIT_TESTS:-1}" = 1 ]; then
  step "Unit-Tests unter Wine (Einstellungen, Netzwerk, Ausgabeordner, Sperren)"
  # In the release profile: the dependencies are those of the release build above, so
  # only the library's test build and the dev-dependencies are compiled (a debug build
  # for Windows would compile every dependency once more).
  # The settings' tests live in the application, the network check, the output folder and
  # the lock message in the core crate: both test programs run, each must run tests and pass.
  cargo test --release --locked --lib -p beitraege -p beitraege-core --target x86_64-pc-windows-gnu --no-run \
    --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("profile",{}).get("test") and m.get("executable"): print(m["executable"])' > "$WORK/testexe"
  [ "$(wc -l < "$WORK/testexe")" -eq 2 ] || fail "unit tests under Wine: two test programs expected"
  : > "$WORK/unit.out"
  while read -r T; do
    cp "$PROG/bcryptprimitives.dll" "$(dirname "$T")/"
    # Wine renames a folder although a file in it is held open without sharing (Windows
    # refuses that): the test of that case runs on Windows only, not under Wine.
    wine "$T" einstellungen network_tests commit:: windows_tests --skip a_file_held_open_by_another_program 2>&1 | tail -n 3 | tee -a "$WORK/unit.out"
    # The test program is not needed again (disk space); the dependencies stay for the next build.
    rm -f "$T" "$(dirname "$T")/bcryptprimitives.dll"
  done < "$WORK/testexe"
  [ "$(grep -cE 'test result: ok\. [1-9]' "$WORK/unit.out")" -eq 2 ] || fail "unit tests under Wine"
fi
echo "wine-check: bestanden (Freigabe durch ein zweites Konto: $RELEASED)"
