/*
 * support_child.h - natsim commands run as forked children for the tests
 * of the real-socket daemons (test_daemon6; test_daemon and test_daemon_tcp
 * keep their own copies of the same helpers): the command's main function
 * with its output in a log file, bounded waits for a line of it and for its
 * exit, and the log shown on failure. Include after <cmocka.h>; define
 * support_child_dir (a folder for the logs) in the test.
 */
#ifndef NATSIM_TESTS_SUPPORT_CHILD_H
#define NATSIM_TESTS_SUPPORT_CHILD_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char support_child_dir[64];

struct child {
	pid_t pid;
	char out[128];
};

static inline uint64_t child_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void child_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Runs `natsim CMD ARGS...` (main_fn, argv NULL-terminated) in a child, its
 * output in support_child_dir/TAG.log, truncated here before the fork. */
static inline struct child child_spawn(const char *tag, int (*main_fn)(int, char **), char **argv)
{
	struct child c;
	int argc = 0;
	while (argv[argc])
		argc++;
	snprintf(c.out, sizeof(c.out), "%s/%s.log", support_child_dir, tag);
	int fd = open(c.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	fflush(NULL);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(99);
		alarm(30); /* a hung child never outlives the test by much */
		_exit(main_fn(argc, argv));
	}
	close(fd);
	return c;
}

static inline bool child_file_contains(const char *path, const char *text)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static inline bool child_wait_text(const struct child *c, const char *text, unsigned timeout_ms)
{
	uint64_t end = child_now_ms() + timeout_ms;
	while (child_now_ms() < end) {
		if (child_file_contains(c->out, text))
			return true;
		child_sleep_ms(20);
	}
	return false;
}

/* Exit status, or -1 if it had to be killed after timeout_ms. */
static inline int child_wait_exit(struct child *c, unsigned timeout_ms)
{
	uint64_t end = child_now_ms() + timeout_ms;
	int st;
	while (child_now_ms() < end) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		child_sleep_ms(10);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	return -1;
}

/* The child's log on stderr, each line marked with its pid. */
static inline void child_dump(const struct child *c)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sed 's/^/  %d| /' '%s' >&2", (int)c->pid, c->out);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot show %s\n", c->out);
}

#endif
