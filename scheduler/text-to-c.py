#!/usr/bin/env python3
"""Embeds a text file into C at build time: text-to-c.py NAME INPUT OUTPUT writes OUTPUT, a header
defining `static const char NAME[]` with INPUT's bytes (ASCII only, so the page stays one byte a
character)."""
import sys


def main():
    name, src, dst = sys.argv[1:4]
    with open(src, encoding="ascii") as f:
        text = f.read()
    lines = ["/* Generated from %s at build time; edit that file. */" % src.rsplit("/", 1)[-1],
             "static const char %s[] =" % name]
    for line in text.splitlines(True):
        body = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines.append('    "%s"' % body.replace("??", "?\\?"))
    lines[-1] += ";"
    with open(dst, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
