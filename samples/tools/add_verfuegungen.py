#!/usr/bin/env python3
"""Adds (or replaces) the column `Verfügung` of sheet `Rückforderungen` of the sample master data.

Each clawback is a decision (4.7) with a number; the ledger identifies a booked clawback by it,
so a corrected «Grund» never books it again. The numbers are invented, one per row, keyed by
municipality and decision date; running the script again gives the same content.

    python3 samples/tools/add_verfuegungen.py [samples/2023/Stammdaten.xlsx]
"""
import datetime
import sys

import openpyxl

PATH = sys.argv[1] if len(sys.argv) > 1 else "samples/2023/Stammdaten.xlsx"
SHEET = "Rückforderungen"
HEADER = "Verfügung"
NUMBERS = {
    (2513, datetime.date(2023, 2, 14)): "AGS-2023-014",
    (2578, datetime.date(2023, 5, 3)): "AGS-2023-031",
    (2513, datetime.date(2022, 6, 1)): "AGS-2022-007",
}


def main() -> None:
    wb = openpyxl.load_workbook(PATH)
    ws = wb[SHEET]
    headers = [c.value for c in ws[1]]
    col = headers.index(HEADER) + 1 if HEADER in headers else len([h for h in headers if h]) + 1
    ws.cell(row=1, column=col, value=HEADER)
    bfs_col = headers.index("BFS-Nr.") + 1
    date_col = headers.index("Verfügt am") + 1
    for r in range(2, ws.max_row + 1):
        bfs = ws.cell(row=r, column=bfs_col).value
        day = ws.cell(row=r, column=date_col).value
        if bfs is None:
            continue
        if isinstance(day, datetime.datetime):
            day = day.date()
        ws.cell(row=r, column=col, value=NUMBERS[(int(bfs), day)])
    ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width = 16
    wb.save(PATH)


if __name__ == "__main__":
    main()
