#!/usr/bin/env python3
"""Mean ink of each row of a sample grid that `infogan train` writes (8-bit grey PNG, a 10x10 or
KxN grid of 28x28 images with 2-pixel borders): the mean pixel value of the images in the row, in
[0, 1]. In a categorical grid a row is one category, so rows that draw the same digits with
heavier or lighter strokes differ here.

Usage: scripts/grid_ink.py GRID.png [CELL=28] [BORDER=2]
Standard library only."""

import struct
import sys
import zlib


def grey_png(path):
    """Pixel rows of an 8-bit greyscale, non-interlaced PNG."""
    data = open(path, "rb").read()
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if (depth, colour, body[12]) != (8, 0, 0):
                sys.exit(f"{path}: not an 8-bit greyscale non-interlaced PNG")
        elif kind == b"IDAT":
            idat += body
    raw, rows, previous, i = zlib.decompress(idat), [], bytearray(width), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1 : i + 1 + width])
        i += 1 + width
        for x in range(width):
            left = line[x - 1] if x else 0
            up, up_left = previous[x], previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append(line)
        previous = line
    return rows, width, height


def main(path, cell=28, border=2):
    rows, width, height = grey_png(path)
    pitch = cell + border
    for r in range((height - border) // pitch):
        inks = []
        for c in range((width - border) // pitch):
            y0, x0 = r * pitch + border, c * pitch + border
            total = sum(sum(rows[y][x0 : x0 + cell]) for y in range(y0, y0 + cell))
            inks.append(total / (cell * cell * 255))
        print(f"row {r}: mean ink {sum(inks) / len(inks):.3f}  (" + " ".join(f"{v:.2f}" for v in inks) + ")")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], *map(int, sys.argv[2:4]))
