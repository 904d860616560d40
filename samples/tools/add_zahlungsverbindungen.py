#!/usr/bin/env python3
"""Adds (or replaces) the payment-detail sheets of the sample master data.

Sheets `Zahlungsverbindungen` (one invented account per municipality) and `Kantonskonto`
(the canton's account). Only these two sheets are touched; running the script again gives
the same content. The IBANs are invented but valid (ISO 13616 check digits computed here;
bank number 80808 is outside the QR-IBAN range 30000-31999).

    python3 samples/tools/add_zahlungsverbindungen.py [samples/2023/Stammdaten.xlsx]
"""
import sys

import openpyxl

PATH = sys.argv[1] if len(sys.argv) > 1 else "samples/2023/Stammdaten.xlsx"
ACCOUNTS = "Zahlungsverbindungen"
CANTON = "Kantonskonto"


def iban(country: str, bban: str) -> str:
    """A valid IBAN: check digits by ISO 7064 MOD 97-10."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


def main() -> None:
    wb = openpyxl.load_workbook(PATH)
    for name in (ACCOUNTS, CANTON):
        if name in wb.sheetnames:
            del wb[name]
    gem = wb["Gemeinden"]
    header = [c.value for c in gem[1]]
    i_bfs, i_name = header.index("BFS-Nr."), header.index("Gemeinde")
    ws = wb.create_sheet(ACCOUNTS)
    ws.append(["BFS-Nr.", "Kontoinhaber", "IBAN", "Strasse", "Hausnummer", "PLZ", "Ort"])
    rows = sorted(
        (int(r[i_bfs]), str(r[i_name])) for r in gem.iter_rows(min_row=2, values_only=True) if r[i_bfs] is not None
    )
    for bfs, name in rows:
        account = iban("CH", "80808" + f"{bfs:012d}")
        ws.append([bfs, f"Einwohnergemeinde {name}", account, "Hauptstrasse", str(bfs % 97 + 1), f"4{bfs % 1000:03d}", name])
    for col, width in zip("ABCDEFG", (9, 40, 26, 18, 11, 7, 28)):
        ws.column_dimensions[col].width = width
    kk = wb.create_sheet(CANTON)
    kk.append(["Kontoinhaber", "IBAN", "BIC", "Clearing-Nr.", "Strasse", "Hausnummer", "PLZ", "Ort"])
    kk.append(["Kanton Solothurn, Finanzverwaltung", iban("CH", "09000" + "000045000001"), "POFICHBEXXX", "9000",
               "Barfüssergasse", "24", "4509", "Solothurn"])
    for col, width in zip("ABCDEFGH", (36, 26, 14, 12, 18, 11, 7, 14)):
        kk.column_dimensions[col].width = width
    wb.save(PATH)
    print(f"{PATH}: {len(rows)} Zahlungsverbindungen und das Kantonskonto geschrieben.")


if __name__ == "__main__":
    main()
