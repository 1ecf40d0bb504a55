// exec from a second thread: exec_from_thread PROGRAM [ARGS...] waits for a line on stdin, then a new thread (not the
// leader) calls execv. de_thread() makes the exec'ing thread take the leader's pid, so tracers that key exec state
// by thread id lose the exit; execsnoop keys it by the process id.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char **program;

static void *run(void *unused)
{
	(void)unused;
	execv(program[0], program);
	perror("execv");
	_exit(127);
}

int main(int argc, char **argv)
{
	char line[16];
	pthread_t thread;

	if (argc < 2) {
		fprintf(stderr, "usage: exec_from_thread PROGRAM [ARGS...]\n");
		return 2;
	}
	program = argv + 1;
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (pthread_create(&thread, NULL, run, NULL))
		return 1;
	pthread_join(thread, NULL);
	return 1;
}
