/*
 * A stand-in for ProcessPrng (bcryptprimitives.dll), for running the Windows build under
 * Wine in CI only. NEVER SHIPPED: tools/dist.sh does not put it into the zip.
 *
 * Why: Rust's standard library (1.78 and later) draws its random numbers (HashMap seeds,
 * temporary names) from ProcessPrng, which Windows 10 and 11 export from
 * bcryptprimitives.dll. Wine 8 (Debian 12's) lacks that export, so the program does not
 * start under it. This DLL exports ProcessPrng on top of RtlGenRandom (advapi32's
 * SystemFunction036), which Wine has; tools/wine-check.sh puts it beside beitraege.exe and
 * tells Wine to prefer it (WINEDLLOVERRIDES=bcryptprimitives=n,b).
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll processprng.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
