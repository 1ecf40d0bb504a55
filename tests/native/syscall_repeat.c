// A known number of system calls: syscall_repeat N waits for a line on stdin (so a tracer can start first), then
// calls getppid(2) N times through syscall(2) (no libc caching) and exits.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[16];
	long n = argc > 1 ? atol(argv[1]) : 0;

	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("done %ld\n", n);
	return 0;
}
