// A target for sleepable uprobe and USDT tests: after a line on stdin (so a test can attach first), it copies its
// first argument (or a default text) into a buffer of freshly mapped memory and hands the buffer to
// bpfsharp_consume(buffer, length) and to the USDT probe bpfsharp:message(buffer, length). A sleepable program
// reads the text with bpf_copy_from_user, which may fault the page in (a non-sleepable read gives up on a fault).
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sdt.h>

__attribute__((noinline)) long bpfsharp_consume(const char *buffer, long length)
{
    __asm__ volatile("" ::: "memory"); /* keep the call */
    return length + (buffer[0] != 0);
}

int main(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : "hello from user space";
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 2;
    char *buffer = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buffer == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    snprintf(buffer, 64, "%s", text);
    long length = (long)strlen(buffer);
    long consumed = bpfsharp_consume(buffer, length);
    DTRACE_PROBE2(bpfsharp, message, buffer, length);
    printf("consumed=%ld\n", consumed);
    return 0;
}
