// Execs with argv that tracers get wrong: exec_odd empty|badpointer|badstring waits for a line on stdin, then calls
// execve("/bin/true", ...) with no arguments at all, with an argv pointer that faults, or with an argument string
// pointer that faults (the last two fail with EFAULT).
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[16];
	char *envp[] = { NULL };
	char *empty[] = { NULL };
	char *badstring[] = { "/bin/true", (char *)8, NULL };
	char **volatile badpointer = (char **)8; /* volatile: the compiler must not reason about it */

	if (argc < 2) {
		fprintf(stderr, "usage: exec_odd empty|badpointer|badstring\n");
		return 2;
	}
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (!strcmp(argv[1], "empty"))
		execve("/bin/true", empty, envp);
	else if (!strcmp(argv[1], "badpointer"))
		execve("/bin/true", badpointer, envp);
	else if (!strcmp(argv[1], "badstring"))
		execve("/bin/true", badstring, envp);
	perror("execve");
	return 1;
}
