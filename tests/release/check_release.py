#!/usr/bin/env python3
"""Checks a release zip made by rust/release.sh without any platform's tools:

- it holds addons/rust_websocket/ with websocket.gdextension, LICENSE,
  README.md, websockets.gd and websocket_client.gd (one script for every
  platform, and the client node's stand-in), and every library the
  .gdextension names (paths relative to it);
- each library is of the format and architecture its line says (ELF x86_64 or
  aarch64, PE x86-64, Mach-O universal with arm64 and x86_64);
- the Windows DLL exports gdext_rust_init and imports only Windows' own DLLs
  (no mingw runtime such as libgcc_s_seh or libwinpthread);
- the .sha256 file next to the zip matches.

Usage: check_release.py ZIP
Prints one line per check; exits non-zero on any failure.
"""
import configparser
import hashlib
import os
import struct
import sys
import zipfile

ADDON = "addons/rust_websocket/"
# DLLs every Windows has. Anything else (a mingw runtime) would be missing
# on a user's machine.
WINDOWS_DLLS = {
    "kernel32.dll", "ntdll.dll", "ws2_32.dll", "advapi32.dll", "bcrypt.dll",
    "bcryptprimitives.dll", "msvcrt.dll", "ucrtbase.dll", "userenv.dll",
    "user32.dll", "shell32.dll", "ole32.dll", "oleaut32.dll", "secur32.dll",
    "crypt32.dll", "ncrypt.dll", "iphlpapi.dll", "synchronization.dll",
}

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
    return ok


def elf_machine(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit
        return None
    return struct.unpack_from("<H", data, 18)[0]


def macho_archs(data):
    """CPU types of a Mach-O file (thin or universal)."""
    magic = struct.unpack_from(">I", data, 0)[0]
    if magic == 0xCAFEBABE:
        count = struct.unpack_from(">I", data, 4)[0]
        return {struct.unpack_from(">I", data, 8 + 20 * i)[0] for i in range(count)}
    if struct.unpack_from("<I", data, 0)[0] == 0xFEEDFACF:
        return {struct.unpack_from("<I", data, 4)[0]}
    return set()


class Pe:
    """Just enough of a PE32+ file: machine, imported DLLs, exported names."""

    def __init__(self, data):
        self.data = data
        off = struct.unpack_from("<I", data, 0x3C)[0]
        if data[:2] != b"MZ" or data[off:off + 4] != b"PE\0\0":
            raise ValueError("not a PE file")
        self.machine, nsections = struct.unpack_from("<HH", data, off + 4)
        opt_size = struct.unpack_from("<H", data, off + 20)[0]
        opt = off + 24
        if struct.unpack_from("<H", data, opt)[0] != 0x20B:
            raise ValueError("not PE32+")
        self.dirs = [struct.unpack_from("<II", data, opt + 112 + 8 * i) for i in range(16)]
        sec = opt + opt_size
        self.sections = []
        for i in range(nsections):
            vsize, va, rawsize, raw = struct.unpack_from("<IIII", data, sec + 40 * i + 8)
            self.sections.append((va, max(vsize, rawsize), raw))

    def at(self, rva):
        for va, size, raw in self.sections:
            if va <= rva < va + size:
                return raw + rva - va
        raise ValueError(f"RVA {rva:#x} outside the sections")

    def cstr(self, rva):
        start = self.at(rva)
        return self.data[start:self.data.index(b"\0", start)].decode()

    def imports(self):
        rva, size = self.dirs[1]
        names, at = [], self.at(rva)
        while True:
            name_rva = struct.unpack_from("<I", self.data, at + 12)[0]
            if name_rva == 0:
                return names
            names.append(self.cstr(name_rva))
            at += 20

    def exports(self):
        rva, size = self.dirs[0]
        if rva == 0:
            return []
        at = self.at(rva)
        count, _, names_rva = struct.unpack_from("<III", self.data, at + 24)
        names_at = self.at(names_rva)
        return [self.cstr(struct.unpack_from("<I", self.data, names_at + 4 * i)[0]) for i in range(count)]


def main():
    zip_path = sys.argv[1]
    z = zipfile.ZipFile(zip_path)
    files = set(z.namelist())
    for name in ["websocket.gdextension", "LICENSE", "README.md", "websockets.gd", "websocket_client.gd"]:
        check(ADDON + name in files, f"{ADDON}{name} is in the zip")
    cfg = configparser.ConfigParser()
    cfg.read_string(z.read(ADDON + "websocket.gdextension").decode())
    libraries = {k: v.strip('"') for k, v in cfg["libraries"].items()}
    check(cfg["configuration"]["entry_symbol"].strip('"') == "gdext_rust_init", "entry symbol")
    platforms = {k.split(".")[0] for k in libraries}
    check({"linux", "windows", "macos"} <= platforms, f"libraries for Linux, Windows and macOS ({sorted(platforms)})")
    for key, rel in sorted(libraries.items()):
        if not check(rel.startswith("./") and ".." not in rel, f"{key}: path {rel} is relative to the .gdextension"):
            continue
        path = ADDON + rel.removeprefix("./")
        if not check(path in files, f"{key}: {path} is in the zip"):
            continue
        data = z.read(path)
        if key.startswith("linux") and key.endswith("x86_64"):
            check(elf_machine(data) == 62, f"{key}: ELF x86-64")
        elif key.startswith("linux") and key.endswith("arm64"):
            check(elf_machine(data) == 183, f"{key}: ELF aarch64")
        elif key.startswith("windows"):
            try:
                pe = Pe(data)
            except ValueError as e:
                check(False, f"{key}: PE file ({e})")
                continue
            check(pe.machine == 0x8664, f"{key}: PE x86-64")
            check("gdext_rust_init" in pe.exports(), f"{key}: exports gdext_rust_init")
            imports = [d.lower() for d in pe.imports()]
            foreign = [d for d in imports if d not in WINDOWS_DLLS and not d.startswith("api-ms-win-")]
            check(not foreign, f"{key}: imports only Windows' own DLLs ({', '.join(imports)})")
        elif key.startswith("macos"):
            archs = macho_archs(data)
            check({0x01000007, 0x0100000C} <= archs, f"{key}: Mach-O with x86_64 and arm64 ({[hex(a) for a in archs]})")
        else:
            check(False, f"{key}: unknown platform line")
    sums = os.path.splitext(zip_path)[0] + ".sha256"
    if check(os.path.exists(sums), f"{os.path.basename(sums)} next to the zip"):
        digest = hashlib.sha256(open(zip_path, "rb").read()).hexdigest()
        listed = dict(reversed(line.split()) for line in open(sums) if line.strip())
        check(listed.get(os.path.basename(zip_path)) == digest, "the zip's SHA-256 matches")
        for name in files:
            if name.startswith(ADDON + "bin/") and not name.endswith("/"):
                want = hashlib.sha256(z.read(name)).hexdigest()
                check(listed.get(name) == want, f"SHA-256 of {name} matches")
    print(f"release: {0 if failures else 1} passed, {1 if failures else 0} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
