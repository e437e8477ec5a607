#!/usr/bin/env python3
"""Describe an ELF vmcore (e.g. QEMU's dump of a real guest) as a guestdump snapshot, so that guestdump reads the
very bytes of that file: one memory block per PT_LOAD (file + file-offset), VMCOREINFO from its note, registers
from an `info registers -a` text. Usage: elf-to-snapshot.py VMCORE REGISTERS.txt OUT_DIR"""
import os, struct, sys

vmcore, regs, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
with open(vmcore, 'rb') as f:
    eh = f.read(64)
    assert eh[:4] == b'\x7fELF' and eh[4] == 2 and eh[5] == 1, 'ELF64 LSB only'
    phoff, = struct.unpack_from('<Q', eh, 32)
    phentsize, phnum = struct.unpack_from('<HH', eh, 54)
    f.seek(phoff)
    ph = [struct.unpack('<IIQQQQQQ', f.read(phentsize)[:56]) for _ in range(phnum)]
    blocks, vmcoreinfo = [], None
    for p_type, _, off, vaddr, paddr, filesz, memsz, _ in ph:
        if p_type == 1 and filesz:
            blocks.append((paddr, filesz, off))
        elif p_type == 4:
            f.seek(off)
            notes, pos = f.read(filesz), 0
            while pos + 12 <= len(notes):
                namesz, descsz, _ = struct.unpack_from('<III', notes, pos)
                name = notes[pos + 12:pos + 12 + namesz].rstrip(b'\0')
                dpos = pos + 12 + (namesz + 3) // 4 * 4
                if name == b'VMCOREINFO':
                    vmcoreinfo = notes[dpos:dpos + descsz].decode()
                pos = dpos + (descsz + 3) // 4 * 4
conf = ['guest {', '  arch = x86_64', '  memory = [']
for i, (start, size, off) in enumerate(blocks):
    conf.append(f'    {{ name = "load{i}", start = "{hex(start)}", size = "{hex(size)}", '
                f'file = "{os.path.abspath(vmcore)}", file-offset = "{hex(off)}" }}')
conf += ['  ]', f'  cpu-state-from = "{os.path.abspath(regs)}"']
if vmcoreinfo:
    with open(os.path.join(out, 'vmcoreinfo.txt'), 'w') as v:
        v.write(vmcoreinfo)
    conf.append('  vmcoreinfo-from = "vmcoreinfo.txt"')
conf.append('}')
with open(os.path.join(out, 'guest.conf'), 'w') as c:
    c.write('\n'.join(conf) + '\n')
print(os.path.join(out, 'guest.conf'))
