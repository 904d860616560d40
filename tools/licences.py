#!/usr/bin/env python3
"""The licences of the crates built into the shipped program (for `just dist`).

    python3 tools/licences.py TARGET > Lizenzen.txt

Walks `cargo metadata`'s resolved graph from the `beitraege` package along normal and build
dependencies (no dev-dependencies) for TARGET, and prints per crate its name, version,
licence expression and the text of every licence file it ships (LICENSE*, LICENCE*,
COPYING*, NOTICE*). Only cargo and python3 are needed.
"""
import json
import os
import subprocess
import sys

target = sys.argv[1] if len(sys.argv) > 1 else "x86_64-unknown-linux-gnu"
meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--locked", "--format-version", "1", "--filter-platform", target],
        check=True,
        capture_output=True,
    ).stdout
)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
root = next(p["id"] for p in meta["packages"] if p["name"] == "beitraege" and p["source"] is None)
seen, todo = set(), [root]
while todo:
    pid = todo.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for d in nodes[pid]["deps"]:
        kinds = [k["kind"] for k in d["dep_kinds"]]
        if any(k in (None, "build") for k in kinds):
            todo.append(d["pkg"])

out = sys.stdout
out.write("Lizenzen der in «beitraege» eingebauten Bibliotheken (Rust-Crates)\n")
out.write("Licences of the libraries (Rust crates) built into «beitraege»\n")
out.write("=" * 78 + "\n\n")
for pid in sorted(seen, key=lambda i: (packages[i]["name"], packages[i]["version"])):
    p = packages[pid]
    out.write(f"{p['name']} {p['version']}: {p.get('license') or p.get('license_file') or '(keine Angabe)'}\n")
for pid in sorted(seen, key=lambda i: (packages[i]["name"], packages[i]["version"])):
    p = packages[pid]
    d = os.path.dirname(p["manifest_path"])
    names = sorted(
        f for f in os.listdir(d)
        if f.upper().startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE")) and os.path.isfile(os.path.join(d, f))
    )
    if p.get("license_file"):
        lf = os.path.normpath(os.path.join(d, p["license_file"]))
        if os.path.isfile(lf) and os.path.basename(lf) not in names:
            names.append(os.path.relpath(lf, d))
    out.write("\n" + "-" * 78 + f"\n{p['name']} {p['version']} ({p.get('license') or 'siehe Text'})\n")
    if p.get("repository"):
        out.write(f"{p['repository']}\n")
    for n in names:
        with open(os.path.join(d, n), encoding="utf-8", errors="replace") as f:
            out.write(f"\n--- {n} ---\n{f.read().rstrip()}\n")
