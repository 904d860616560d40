/*
 * Holds a file open without sharing, as Excel holds a workbook it edits, until its standard
 * input closes; prints «gesperrt» once the file is held. For tools/wine-check.sh only
 * (never shipped).
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -municode -o sperren.exe sperren.c
 */
#include <windows.h>
#include <stdio.h>

int wmain(int argc, wchar_t **argv)
{
    if (argc != 2) {
        fprintf(stderr, "Aufruf: sperren.exe DATEI\n");
        return 2;
    }
    HANDLE h = CreateFileW(argv[1], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "nicht geöffnet: Fehler %lu\n", GetLastError());
        return 1;
    }
    printf("gesperrt\n");
    fflush(stdout);
    char buf[64];
    DWORD n;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    while (ReadFile(in, buf, sizeof buf, &n, NULL) && n > 0) {
    }
    CloseHandle(h);
    return 0;
}
