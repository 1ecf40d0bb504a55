// A workload for the pagefaults tool's tests: maps PAGES fresh anonymous pages (no transparent huge pages, so each
// page faults on its own) and writes one byte to each, then reads every page of its own executable through a
// private file mapping. It reports what it mapped on stderr ("anon START END", "file START END") so a test can
// compare the tool's regions with the truth, and how long the writes took ("touched PAGES pages in NS ns", to
// measure the tool's overhead). With "wait" as second argument it first waits for a line on stdin, so
// a tracer can attach to the running process (--pid) before the faults happen.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long pages = argc > 1 ? atol(argv[1]) : 100;
    if (argc > 2 && strcmp(argv[2], "wait") == 0) {
        char line[16];
        if (!fgets(line, sizeof line, stdin))
            return 2;
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t size = (size_t)pages * page;
    volatile char *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    madvise((void *)memory, size, MADV_NOHUGEPAGE);
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    for (long i = 0; i < pages; i++)
        memory[i * page] = (char)i;
    clock_gettime(CLOCK_MONOTONIC, &after);
    fprintf(stderr, "anon 0x%lx 0x%lx\n", (unsigned long)memory, (unsigned long)memory + size);
    fprintf(stderr, "touched %ld pages in %ld ns\n", pages,
            (after.tv_sec - before.tv_sec) * 1000000000L + (after.tv_nsec - before.tv_nsec));

    int fd = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror("open /proc/self/exe");
        return 1;
    }
    volatile char *file = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) {
        perror("mmap file");
        return 1;
    }
    long sum = 0;
    for (off_t at = 0; at < st.st_size; at += page)
        sum += file[at];
    fprintf(stderr, "file 0x%lx 0x%lx %ld\n", (unsigned long)file, (unsigned long)file + ((st.st_size + page - 1) / page) * page, sum & 1);
    return 0;
}
