#!/usr/bin/env python3
"""Shrinks a PDF signed by pdfsig into a small fuzzing seed (fuzz/make-pdf-seeds.sh).

pdfsig embeds a whole font (hundreds of KiB) for the signature appearance, and signers reserve
/Contents much larger than their CMS. Every object over 1500 bytes that is not a signature
dictionary is replaced by an empty one, the zero padding of /Contents is dropped, then every
offset is fixed so that the file parses without repair: xref entries, startxref, /Prev
(zero-padded to their old width) and each /ByteRange, which again delimits its /Contents
and ends at its revision's %%EOF. The signatures no longer match their bytes (the fuzzer
needs the structure, not valid signatures). Only cross-reference tables are handled.
Usage: shrink-signed-pdf.py IN OUT
"""
import re
import sys

LIMIT = 1500
data = open(sys.argv[1], 'rb').read()

out = bytearray()
moved = {}  # old offset of an object header -> new offset
pos = 0
for m in re.finditer(rb'(?:(?<=[\r\n])|^)(\d+) (\d+) obj\b', data):
    if m.start() < pos:
        continue
    end = data.find(b'endobj', m.end())
    if end < 0:
        break
    out += data[pos:m.start()]
    moved[m.start()] = len(out)
    body = data[m.end():end]
    if len(body) > LIMIT and b'/ByteRange' not in body:
        body = b'\n<< /Length 0 >>\nstream\n\nendstream\n' if b'stream' in body else b'\n<< >>\n'
    elif b'/ByteRange' in body:
        # /Contents is reserved larger than its CMS and padded with zeros: drop the padding,
        # but keep 32 zero bytes for the end-of-contents octets of BER indefinite lengths.
        body = re.sub(rb'/Contents\s*<([0-9A-Fa-f]*?)((?:00)*)>',
                      lambda c: b'/Contents <' + c.group(1) + b'00' * 32 + b'>', body)
    out += data[m.start():m.end()] + body
    pos = end
out += data[pos:]
out = bytes(out)


def old_to_new(old):
    if old in moved:
        return moved[old]
    # An xref section or startxref target is not an object header: map by the nearest
    # object before it.
    before = max((o for o in moved if o <= old), default=None)
    return old if before is None else moved[before] + (old - before)


def fix_xref_sections(buf):
    res = bytearray(buf)
    for m in re.finditer(rb'(?:(?<=[\r\n])|^)xref\s*[\r\n]', buf):
        i = m.end()
        while True:
            sub = re.match(rb'(\d+) (\d+)\s*[\r\n]+', buf[i:])
            if not sub:
                break
            i += sub.end()
            for _ in range(int(sub.group(2))):
                entry = buf[i:i + 20]
                if entry[17:18] == b'n':
                    res[i:i + 10] = b'%010d' % old_to_new(int(entry[:10]))
                i += 20
    return bytes(res)


out = fix_xref_sections(out)


def repad(m, group, value):
    width = len(m.group(group))
    text = b'%0*d' % (width, value)
    if len(text) > width:
        raise SystemExit('offset grew: cannot keep the width')
    return m.group(0).replace(m.group(group), text, 1)


# Offsets in startxref/Prev refer to the original file; map them through the shrink.
orig_xrefs = [m.start() for m in re.finditer(rb'(?:(?<=[\r\n])|^)xref\s*[\r\n]', data)]
new_xrefs = [m.start() for m in re.finditer(rb'(?:(?<=[\r\n])|^)xref\s*[\r\n]', out)]
xref_map = dict(zip(orig_xrefs, new_xrefs))
out = re.sub(rb'startxref(\s+)(\d+)', lambda m: repad(m, 2, xref_map.get(int(m.group(2)), int(m.group(2)))), out)
out = re.sub(rb'/Prev(\s+)(\d+)', lambda m: repad(m, 2, xref_map.get(int(m.group(2)), int(m.group(2)))), out)

# Each /ByteRange delimits its own /Contents hex string and ends at its revision's end.
res = bytearray(out)
for m in re.finditer(rb'/Contents\s*<', out):
    a = m.end() - 1
    b = out.index(b'>', a) + 1
    # Its own /ByteRange, before or after /Contents in the same object.
    start, end = out.rfind(b' obj', 0, a), out.find(b'endobj', b)
    br = re.compile(rb'/ByteRange\s*\[([^\]]*)\]').search(out, start, end)
    if start < 0 or end < 0 or not br:
        continue
    eof = out.index(b'%%EOF', end) + 5
    if out[eof:eof + 2] == b'\r\n':
        eof += 2
    elif out[eof:eof + 1] in (b'\n', b'\r'):
        eof += 1
    width = len(br.group(1))
    text = b'0 %d %d %d' % (a, b, eof - b)
    if len(text) > width:
        raise SystemExit('ByteRange does not fit')
    res[br.start(1):br.end(1)] = text.ljust(width)
open(sys.argv[2], 'wb').write(bytes(res))
