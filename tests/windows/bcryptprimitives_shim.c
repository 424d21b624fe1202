/* Stand-in for Windows' bcryptprimitives.dll under Wine, which lacks it:
 * Rust's standard library asks it for random bytes (ProcessPrng). The test
 * runner builds this with mingw and puts it next to the test executables;
 * real Windows has its own and never sees this file. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
