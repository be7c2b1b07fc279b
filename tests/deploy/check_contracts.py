#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The public API's contracts, checked against the code:
- every function a header of include/sdconnect declares with SDC_EXTERN has
  a comment (before it, shared by the declarations right after it, or on
  its line);
- every header says, in its opening comment, which threads may call it and
  what may block;
- for a function that returns sdc_status, every SDC_ status its definition
  in src/lib returns by name is named in its comment, and so is SDC_OK;
- every struct a header defines says how it may change: "Frozen" (the
  program makes it; it never changes) or "Append-only" (the library makes
  it; fields only ever go at the end). Everything else is opaque.

    check_contracts.py SOURCE_DIR
"""
import glob
import os
import re
import sys

src = sys.argv[1]
failures = []
decls = {}  # name -> (header, returns sdc_status, comment)
for path in sorted(glob.glob(os.path.join(src, "include", "sdconnect", "*.h"))):
    text = open(path).read()
    header = os.path.basename(path)
    opening = re.match(r"\s*/\*.*?\*/\s*/\*(.*?)\*/", text, re.S)
    top = opening.group(1) if opening else ""
    if header not in ("version.h", "sdconnect.h") and \
            (not re.search(r"thread", top, re.I) or not re.search(r"block", top, re.I)):
        failures.append(f"{header}: the opening comment does not say which threads may call it "
                        "and what blocks")
    lines = text.split("\n")
    comment = None  # the last comment seen, kept across a run of declarations
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("/*"):
            block = [line]
            while "*/" not in lines[i]:
                i += 1
                block.append(lines[i])
            comment = "\n".join(block)
            i += 1
            continue
        if "SDC_EXTERN" in line and "#define" not in line:
            decl = line
            while ";" not in lines[i]:
                i += 1
                decl += "\n" + lines[i]
            m = re.search(r"\b(sdc_\w+)\s*\(", decl)
            if m:
                own = re.search(r"/\*.*?\*/", decl, re.S)
                text_of = (own.group(0) if own else "") + "\n" + (comment or "")
                if not own and comment is None:
                    failures.append(f"{header}: {m.group(1)} has no comment")
                decls[m.group(1)] = (header, re.match(r"\s*SDC_EXTERN\s+sdc_status\b", decl) is not None,
                                     text_of)
            i += 1
            continue
        if stripped == "" or stripped.startswith("#") or stripped.startswith("typedef") \
                or stripped.startswith("}") or stripped.startswith("extern"):
            if stripped.startswith(("typedef", "}", "#")):
                comment = None
        elif not stripped.startswith(("*", "//")):
            comment = None
        i += 1

# Structs: each says whether it is frozen or append-only.
for path in sorted(glob.glob(os.path.join(src, "include", "sdconnect", "*.h"))):
    text = open(path).read()
    for m in re.finditer(r"(/\*[^/]*?\*/)?\s*typedef struct (sdc_\w+) \{", text):
        if not m.group(1) or not re.search(r"Frozen|Append-only", m.group(1)):
            failures.append(f"{os.path.basename(path)}: struct {m.group(2)} does not say whether "
                            "it is Frozen or Append-only (or make it opaque)")

# Definitions: what each returns by name.
bodies = {}
for path in glob.glob(os.path.join(src, "src", "lib", "**", "*.c"), recursive=True):
    text = open(path).read()
    for m in re.finditer(r"^sdc_status\s+(sdc_[a-z0-9_]+)\s*\([^;{]*\)\s*\{", text, re.M):
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        bodies[m.group(1)] = text[m.end():j]
for name, (header, status, comment) in sorted(decls.items()):
    if not status:
        continue
    body = bodies.get(name)
    if body is None:
        failures.append(f"{header}: {name}: no definition found in src/lib")
        continue
    returned = set(re.findall(r"return\s+(SDC_E[A-Z]+)\b", body))
    returned |= set(re.findall(r"\?\s*(SDC_E[A-Z]+)\s*:", body))
    returned |= set(re.findall(r":\s*(SDC_E[A-Z]+)\s*;", body))
    named = set(re.findall(r"\b(SDC_(?:OK|E[A-Z]+))\b", comment))
    if "SDC_OK" not in named:
        failures.append(f"{header}: {name}: the comment does not list what it returns (SDC_OK, ...)")
    for st in sorted(returned - named):
        failures.append(f"{header}: {name} returns {st}, which its comment does not name")

if failures:
    for f in failures:
        print("check_contracts: " + f, file=sys.stderr)
    print(f"check_contracts: {len(failures)} problems", file=sys.stderr)
    sys.exit(1)
print(f"check_contracts: {len(decls)} public functions documented; the statuses of "
      f"{sum(1 for d in decls.values() if d[1])} checked against their definitions")
