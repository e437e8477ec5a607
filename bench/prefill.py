#!/usr/bin/env python3
"""Fills guest RAM with real file content and zero runs, so that a dump is neither all zeros nor all noise.

    prefill.py PATH BYTES ZERO_SHARE [HASHES|-] [KEEP]

Writes PATH up to BYTES: pieces of up to 2 MiB of files from /usr/lib, /usr/share and /usr/bin (4 KiB-aligned),
each followed by a zero run sized so that about ZERO_SHARE of all pages end up zero. KEEP bytes at the start are
left as they are (a sample guest's page tables and notes) and the file is rewritten in place after them; without
KEEP the file is created. HASHES, when given, receives an 8-byte BLAKE2b digest per written page. Deterministic:
the same machine gives the same bytes. Prints one line: pages written, files used, zero pages.
"""
import hashlib, os, random, sys

path, total, zshare = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
hashes = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != '-' else os.devnull
keep = int(sys.argv[5]) if len(sys.argv) > 5 else 0
P, ZERO = 4096, bytes(4096)
if keep % P:
    sys.exit(f'KEEP {keep} is not a multiple of {P}')


def files():
    walks = [os.walk(d) for d in ('/usr/lib', '/usr/share', '/usr/bin')]
    while walks:
        for w in list(walks):
            try:
                d, _, names = next(w)
            except StopIteration:
                walks.remove(w)
                continue
            for n in sorted(names):
                p = os.path.join(d, n)
                if os.path.isfile(p) and not os.path.islink(p):
                    yield p


rnd = random.Random(1)
pages = (total - keep) // P
done = zero = files_used = 0
with open(path, 'r+b' if keep else 'wb') as out, open(hashes, 'wb') as hs:
    out.seek(keep)

    def put(b):
        global done, zero
        b = b[:(pages - done) * P]
        b += bytes(-len(b) % P)
        out.write(b)
        for i in range(0, len(b), P):
            pg = b[i:i + P]
            zero += pg == ZERO
            hs.write(hashlib.blake2b(pg, digest_size=8).digest())
        done += len(b) // P

    src = files()
    while done < pages:
        p = next(src, None)
        if p is None:
            src = files()
            continue
        try:
            with open(p, 'rb') as f:
                data = f.read(2 << 20)
        except OSError:
            continue
        if not data:
            continue
        put(data)
        files_used += 1
        # a zero run after each piece, sized so that about zshare of all pages end up zero
        want = int(done * zshare) - zero
        if want > 0 and done < pages:
            put(bytes(P * min(want + rnd.randrange(0, 64), pages - done)))
print(f'- prefill: {pages} pages from {files_used} files; {zero} zero pages ({100 * zero / pages:.1f} %)')
