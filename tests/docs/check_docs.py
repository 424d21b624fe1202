#!/usr/bin/env python3
"""Checks the editor help Godot generates for our classes
(`godot --doctool DIR --gdextension-docs`, editor builds only): the class,
every method and every property must have a description; enum constants are
described in the class description (they are registered by hand to keep the
engine's enum names), so each must be named there.

Usage: check_docs.py DOC_CLASSES_DIR CLASS [CLASS...]
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def text(node):
    return "".join(node.itertext()).strip() if node is not None else ""


def check(path: Path, cls: str) -> list:
    problems = []
    xml = path / f"{cls}.xml"
    if not xml.exists():
        return [f"{cls}: no help page was generated ({xml.name} missing)"]
    root = ET.parse(xml).getroot()
    description = text(root.find("description"))
    if not text(root.find("brief_description")):
        problems.append(f"{cls}: no brief description")
    for method in root.iter("method"):
        if not text(method.find("description")):
            problems.append(f"{cls}.{method.get('name')}(): no description")
    for member in root.iter("member"):
        if not text(member):
            problems.append(f"{cls}.{member.get('name')}: no description")
    for constant in root.iter("constant"):
        name = constant.get("name")
        if not text(constant) and name not in description:
            problems.append(f"{cls}.{name}: neither described nor named in the class description")
    counts = {k: len(list(root.iter(k))) for k in ("method", "member", "constant")}
    print(f"{cls}: {counts['method']} methods, {counts['member']} properties, {counts['constant']} constants checked")
    return problems


def main():
    path = Path(sys.argv[1])
    problems = [p for cls in sys.argv[2:] for p in check(path, cls)]
    for p in problems:
        print("missing doc:", p)
    print(f"docs: {'1 passed, 0 failed' if not problems else '0 passed, 1 failed'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
