"""Writes seeds for the `xlsx_parts` fuzz target: the parts of every xlsx/xlsm of the sample
year and the test fixtures, joined by NUL bytes in the order the target expects.
Run from the project root: python3 fuzz/seeds_xlsx_parts.py"""
import glob
import os
import zipfile

PARTS = ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml",
         "xl/_rels/workbook.xml.rels"]
OUT = "fuzz/corpus/xlsx_parts"
os.makedirs(OUT, exist_ok=True)
files = sorted(glob.glob("samples/2023/inbox/**/*.xls[xm]", recursive=True)
               + glob.glob("tests/fixtures/**/*.xlsx", recursive=True))
n = 0
for path in files:
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        continue  # the corpus's traps: not every .xlsx is a zip
    by_lower = {name.lower(): name for name in z.namelist()}
    parts = [z.read(by_lower[p]) if p in by_lower else b"" for p in PARTS]
    with open(os.path.join(OUT, f"seed{n:03d}"), "wb") as f:
        f.write(b"\0".join(parts))
    n += 1
print(f"{n} seeds in {OUT}")
