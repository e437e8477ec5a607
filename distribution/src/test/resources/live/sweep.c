/*
 * The consistency workload of LiveDumpIT: PAGES pages of anonymous, locked memory, each starting with
 * u64 SWEEP_MAGIC, u64 ~SWEEP_MAGIC, u64 page index, u64 sweep number. After filling every page with sweep 0
 * it prints SWEEP-READY and then rewrites the sweep number page by page, in index order, forever (sweep 1, 2,
 * ...). A copy of the memory taken at one instant has at most one boundary in index order: pages below it hold
 * sweep n+1, the others sweep n.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#define PAGES 16384
#define PAGE 4096
#define SWEEP_MAGIC 0x3170656577736467ULL /* "gdsweep1" */

int main(void) {
    volatile uint64_t *mem = mmap(NULL, (size_t) PAGES * PAGE, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) {
        perror("sweep: mmap");
        return 1;
    }
    mlockall(MCL_CURRENT | MCL_FUTURE);
    for (uint64_t i = 0; i < PAGES; i++) {
        volatile uint64_t *p = mem + i * (PAGE / 8);
        p[2] = i;
        p[3] = 0;
        p[1] = ~SWEEP_MAGIC;
        p[0] = SWEEP_MAGIC;
    }
    printf("SWEEP-READY\n");
    fflush(stdout);
    for (uint64_t sweep = 1;; sweep++) {
        for (uint64_t i = 0; i < PAGES; i++) {
            mem[i * (PAGE / 8) + 3] = sweep;
        }
    }
}
