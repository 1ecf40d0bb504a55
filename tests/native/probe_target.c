// A small executable for uprobe, uretprobe and USDT tests. It waits for a line on stdin (so a
// test can attach after it started), then calls bpfsharp_add and hits the USDT probe
// bpfsharp:tick COUNT times, and prints whether the tick probe's semaphore was set (the
// kernel increments it while a uprobe with ref_ctr_offset is attached) and the last sum.
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

unsigned short bpfsharp_tick_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) long bpfsharp_add(long a, long b)
{
    __asm__ volatile("" ::: "memory"); /* keep the call */
    return a + b;
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 3;
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 2;
    long sum = 0;
    int enabled = 0;
    for (int i = 1; i <= count; i++) {
        sum = bpfsharp_add(sum, i);
        if (bpfsharp_tick_semaphore)
            enabled++;
        DTRACE_PROBE2(bpfsharp, tick, i, sum * 10);
    }
    printf("enabled=%d sum=%ld\n", enabled, sum);
    return 0;
}
