// A small executable for uprobe, uretprobe and USDT tests. It waits for a line on stdin (so a
// test can attach after it started), then calls bpfsharp_add and hits the USDT probe
// bpfsharp:tick COUNT times, and prints whether the tick probe's semaphore was set (the
// kernel increments it while a uprobe with ref_ctr_offset is attached) and the last sum.
// When something is attached to bpfsharp:args (its semaphore is set), it also fires that probe
// once: eight arguments of every kind USDT notes describe, with values derived from COUNT.
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

unsigned short bpfsharp_tick_semaphore __attribute__((unused)) __attribute__((section(".probes")));
unsigned short bpfsharp_args_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) long bpfsharp_add(long a, long b)
{
    __asm__ volatile("" ::: "memory"); /* keep the call */
    return a + b;
}

// Built with -O1 -fno-omit-frame-pointer, gcc describes these arguments (readelf -n) as
// "-4@$42 -4@$-9 -1@%al 2@-2(%rbp) -4@-8(%rbp) -8@%rdx 1@%dil -8@-16(%rbp)": constants,
// registers of 1 and 8 bytes, and frame memory; signed and unsigned; negative values.
__attribute__((noinline)) static void fire_args(int count)
{
    volatile unsigned short in_memory_u16 = 65000;
    volatile int in_memory_negative = -123456 * count;
    volatile long in_memory_long = -9876543210L;
    signed char in_register_negative = (signed char)(-5 * count);
    unsigned char in_register_u8 = (unsigned char)(200 + count);
    long in_register_long = 0x1122334455667788L + count;
    STAP_PROBE8(bpfsharp, args, 42, -9, in_register_negative, in_memory_u16, in_memory_negative,
                in_register_long, in_register_u8, in_memory_long);
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
    // The is-enabled check: the arguments are only computed while a probe is attached.
    if (bpfsharp_args_semaphore)
        fire_args(count);
    printf("enabled=%d sum=%ld\n", enabled, sum);
    return 0;
}
