// A CPU-bound workload for the profiler: profile_spin SECONDS [wait] spins in spin_here, a function that is not inlined,
// called from main, until it has had SECONDS of CPU time (not wall time: on a busy machine it gets only a share of a
// CPU, and a profiler's samples count CPU time). With "wait" it first waits for a line on stdin (so a profiler can
// start first).
// Built position-independent (see the test csproj), so the profiler's symbolizer must apply the load bias.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_time(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

__attribute__((noinline)) unsigned long spin_here(double seconds)
{
	volatile unsigned long n = 0;
	double end = cpu_time() + seconds;
	while (cpu_time() < end)
		for (int i = 0; i < 200000; i++)
			n++;
	return n;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	char line[16];

	if (argc > 2 && strcmp(argv[2], "wait") == 0 && !fgets(line, sizeof(line), stdin))
		return 1;
	unsigned long n = spin_here(seconds);
	printf("spun %lu\n", n);
	return 0;
}
