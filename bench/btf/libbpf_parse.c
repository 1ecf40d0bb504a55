// Times libbpf over a raw BTF file, N iterations each:
//   load:  btf__parse(path)         (read the file, parse, index, validate)
//   parse: btf__new(bytes, size)    (the same from bytes already in memory)
// and the heap one result holds (mallinfo2). Prints, per mode:
//   libbpf <mode> <median-ms> <min-ms> <cpu-ms-per-iteration> <heap-bytes>
// Build: cc -O2 libbpf_parse.c -lbpf -o libbpf_parse
#include <bpf/btf.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void *file_bytes(const char *path, size_t *size)
{
	FILE *file = fopen(path, "rb");
	char chunk[65536];
	size_t capacity = 0, n;
	char *data = NULL;

	*size = 0;
	if (!file)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0) {
		if (*size + n > capacity) {
			capacity = (*size + n) * 2;
			data = realloc(data, capacity);
		}
		for (size_t i = 0; i < n; i++)
			data[*size + i] = chunk[i];
		*size += n;
	}
	fclose(file);
	return data;
}

static void measure(const char *mode, const char *path, const void *data, size_t size, int iterations)
{
	double *times = calloc(iterations, sizeof(double));
	size_t heap = 0;
	double cpu_start = clock_ms(CLOCK_PROCESS_CPUTIME_ID);

	for (int i = 0; i < iterations; i++) {
		size_t before = mallinfo2().uordblks;
		double start = clock_ms(CLOCK_MONOTONIC);
		struct btf *btf = data ? btf__new(data, size) : btf__parse(path, NULL);
		times[i] = clock_ms(CLOCK_MONOTONIC) - start;
		if (!btf) {
			fprintf(stderr, "libbpf could not parse %s\n", path);
			exit(1);
		}
		heap = mallinfo2().uordblks - before;
		btf__free(btf);
	}
	double cpu = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / iterations;
	qsort(times, iterations, sizeof(double), compare);
	printf("libbpf %s %.3f %.3f %.3f %zu\n", mode, times[iterations / 2], times[0], cpu, heap);
	free(times);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/sys/kernel/btf/vmlinux";
	int iterations = argc > 2 ? atoi(argv[2]) : 20;
	size_t size;
	void *data = file_bytes(path, &size);

	if (!data) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	measure("load", path, NULL, 0, iterations);
	measure("parse", path, data, size, iterations);
	free(data);
	return 0;
}
