#!/usr/bin/env python3
"""Adds (or replaces) the optional master-data sheets `Adressen` and `Absender` in the sample
master data, with INVENTED addresses and contacts: for every municipality the
Koordinationsstelle, and for most (all but every fifth BFS-Nr.) also the Präsidium and the
Finanzverwaltung (column `Rolle`, one row per role) (the canton's IBAN for invoices is in the
sheet `Kantonskonto`, see add_zahlungsverbindungen.py). Idempotent: only these two sheets are touched, so other scripts
that add their own sheets to the same workbook can run before or after this one.

    python3 samples/tools/add_adressen.py [samples/2023/Stammdaten.xlsx]
"""
import re
import sys
import unicodedata

import openpyxl

PATH = sys.argv[1] if len(sys.argv) > 1 else "samples/2023/Stammdaten.xlsx"

ADRESSEN = ["BFS-Nr.", "Empfänger", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "E-Mail", "Telefon", "Rolle"]
ABSENDER = ["Amt", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "Telefon", "E-Mail"]
STREETS = ["Hauptstrasse", "Dorfstrasse", "Kirchweg", "Schulhausstrasse", "Gemeindehausplatz"]
PRESIDENTS = ["Gabriela Schmid", "Hans Keller", "Irene Brunner", "Jürg Baumann", "Karin Graf"]
TREASURERS = ["Lukas Huber", "Monika Steiner", "Nina Moser", "Oliver Fischer", "Petra Widmer"]
PEOPLE = ["Andrea Meier", "Beat Müller", "Claudia Kohler", "Daniel Frei", "Esther Roth", "Fabian Weber"]


def slug(name):
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def replace_sheet(wb, title, header, rows):
    if title in wb.sheetnames:
        del wb[title]
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append(r)
    for i, h in enumerate(header):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = max(12, len(h) + 4)


def main():
    wb = openpyxl.load_workbook(PATH)
    g = wb["Gemeinden"]
    head = [c.value for c in g[1]]
    ib, iname = head.index("BFS-Nr."), head.index("Gemeinde")
    rows = []
    for row in g.iter_rows(min_row=2, values_only=True):
        if row[ib] is None:
            continue
        bfs, name = int(row[ib]), str(row[iname]).strip()
        rows.append([
            bfs,
            f"Einwohnergemeinde {name}",
            STREETS[bfs % len(STREETS)],
            str(bfs % 40 + 1),
            str(4500 + bfs % 500),  # invented postcode
            name,
            PEOPLE[bfs % len(PEOPLE)],
            f"integration@{slug(name)}.example",
            f"032 600 {bfs % 100:02d} {bfs // 100:02d}",
            "Koordinationsstelle",
        ])
        if bfs % 5 == 0:
            continue
        for role, office, people, mailbox, ext in (
            ("Präsidium", "Gemeindepräsidium", PRESIDENTS, "praesidium", 10),
            ("Finanzverwaltung", "Finanzverwaltung", TREASURERS, "finanzen", 20),
        ):
            rows.append([
                bfs,
                f"{office} {name}",
                "Gemeindehausplatz",
                str(bfs % 40 + 1),
                str(4500 + bfs % 500),
                name,
                people[bfs % len(people)],
                f"{mailbox}@{slug(name)}.example",
                f"032 600 {ext} {bfs // 100:02d}",
                role,
            ])
    replace_sheet(wb, "Adressen", ADRESSEN, rows)
    replace_sheet(wb, "Absender", ABSENDER, [[
        "Amt für Gesellschaft und Soziales",
        "Riedholzplatz",
        "3",
        "4509",
        "Solothurn",
        "Sandra Muster, Fachstelle Integration",
        "032 627 00 00",
        "integration@ags.example",
    ]])
    wb.save(PATH)
    print(f"{PATH}: Adressen ({len(rows)} Zeilen) und Absender geschrieben")


if __name__ == "__main__":
    main()
