#!/bin/sh
# Paging-mode heap benchmark: a synthetic 4 GiB x86_64 guest whose page tables map each of its 1,048,576 pages
# separately (1 Mi PT_LOADs), walked for two vCPUs, merged, planned and its program headers encoded, under a
# fixed heap limit (default 64 MiB, which it fits in; override with HEAP=...). Prints the walk's figures and the JVM's peak RSS.
# Usage: bench/paging-heap.sh   (from the repository root; builds what it needs with Maven, offline if it can)
set -eu
cd "$(dirname "$0")/.."
HEAP=${HEAP:-64m}
MVN="mvn -B -ntp -q"
$MVN -o -pl arch-x86_64 -am test-compile -DskipTests 2>/dev/null || $MVN -pl arch-x86_64 -am test-compile -DskipTests
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
$MVN -o -pl arch-x86_64 -am dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE" \
    >/dev/null 2>&1 || $MVN -pl arch-x86_64 -am dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$CP_FILE" >/dev/null
# the reactor's own classes, not whatever an earlier install left in ~/.m2
CP="arch-x86_64/target/test-classes:arch-x86_64/target/classes"
for m in framework/elf framework/memory framework/plugin-api framework/core framework/testkit; do
    CP="$CP:$m/target/classes"
done
CP="$CP:$(cat "$CP_FILE")"
echo "java -Xmx$HEAP io.guestdump.arch.x86_64.PagingHeapBenchmark"
/usr/bin/time -f "peak RSS: %M KiB, wall %e s" java -Xmx"$HEAP" -cp "$CP" io.guestdump.arch.x86_64.PagingHeapBenchmark
