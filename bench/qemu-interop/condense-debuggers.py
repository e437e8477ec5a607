#!/usr/bin/env python3
# Condenses DebuggersIT results files (distribution/target/debuggers-<arch>.md) into the docs/consumers.md tables:
#   bench/qemu-interop/condense-debuggers.py distribution/target/debuggers-amd64.md ...
import re, sys
def short(cell):
    c = cell.strip()
    if c.startswith('ok'):
        notes = []
        m = re.search(r'(\d+)/(\d+) (?:sleeping tasks in the scheduler|asleep in the scheduler)', c)
        if m: notes.append(f'{m.group(1)}/{m.group(2)} asleep unwound')
        if 'in the idle loop or the panic path' in c: notes.append('CPUs: idle/panic')
        elif 'in the idle loop' in c: notes.append('CPUs: idle loop')
        if 'in an interrupt' in c: notes.append('(idle task in an interrupt)')
        if 'no stack reads' in c: notes.append('no stack reads (no s390x translation)')
        if 'bt -a **fails**' in c: notes.append('`bt -a` fails')
        elif 'bt -a ok' in c: notes.append('`bt -a` ok')
        if 'log lines' in c: notes.append(re.search(r'\d+ log lines', c).group(0))
        m = re.search(r'equal to (.*)$', c)
        if m: notes.append('= ' + m.group(1).replace("QEMU's", 'QEMU').replace(' ELF', ''))
        return 'ok' + (': ' + ', '.join(notes) if notes else '')
    return c
for f in sys.argv[1:]:
    for line in open(f):
        if line.startswith('| ') and not line.startswith('| output'):
            cells = line.strip().strip('|').split(' | ')
            print('| ' + cells[0].strip() + ' | ' + ' | '.join(short(c) for c in cells[1:]) + ' |')
        else:
            print(line, end='')
