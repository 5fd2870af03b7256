/*
 * bench/grade.c - grading a class: 30 submissions of a build task against
 * its key, as `natsim check FOLDER --key KEY` does (app/lesson/grade.h).
 *
 *	bench_grade [N]      (default: N = 30 submissions)
 *
 * The submissions are the bundled firewall task (scenarios/course/tasks/
 * firewall.nsim) with a rule added, written to a temporary folder and read
 * back as files: a third right, a third letting everyone in, and the rest
 * split between a wrong prefix and a rule that does not parse. Each graded
 * submission parses twice (alone, then with the key's expectations) and runs
 * once. Figures: wall time for the whole class and per submission, and the
 * scores seen (which must be the same every time). Target (issue 14):
 * 30 submissions in <= 2 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/lang/diag.h"
#include "app/lesson/grade.h"
#include "app/lesson/key.h"

static const char *const answers[] = {
    "rule bob input accept udp from 198.51.100.9/32 dport 7000\n",
    "rule bob input accept udp dport 7000\n",
    "rule bob input accept udp from 10.0.0.0/24 dport 7000\n",
    "rule bob inptu accept udp dport 7000\n",
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[*len] = 0;
	return buf;
}

/* Write the class into dir: submission i gets answers[i % 3], every tenth
 * the broken one. */
static int write_class(const char *dir, const char *handout, size_t len, int n, char **paths)
{
	for (int i = 0; i < n; i++) {
		paths[i] = malloc(strlen(dir) + 32);
		if (paths[i] == NULL)
			return -1;
		sprintf(paths[i], "%s/student-%02d.nsim", dir, i + 1);
		FILE *f = fopen(paths[i], "w");
		if (f == NULL)
			return -1;
		fwrite(handout, 1, len, f);
		fputs(answers[i % 10 == 9 ? 3 : i % 3], f);
		if (fclose(f) != 0)
			return -1;
	}
	return 0;
}

static int grade_class(const struct key *k, char **paths, int n, int *points)
{
	*points = 0;
	for (int i = 0; i < n; i++) {
		struct grade g;
		if (grade_file(k, paths[i], &g) < 0)
			return -1;
		*points += g.score;
		grade_fini(&g);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 30;
	if (n < 1 || n > 10000) {
		fprintf(stderr, "usage: bench_grade [N]  (1 to 10000 submissions)\n");
		return 2;
	}
	struct diag *d = diag_new();
	struct key *k = key_load(NATSIM_SOURCE_SCENARIOS "/course/keys/firewall.key", d);
	size_t len;
	char *handout = slurp(NATSIM_SOURCE_SCENARIOS "/course/tasks/firewall.nsim", &len);
	char dir[] = "/tmp/bench_grade.XXXXXX";
	char **paths = calloc((size_t)n, sizeof(char *));
	if (k == NULL || handout == NULL || paths == NULL || mkdtemp(dir) == NULL ||
	    write_class(dir, handout, len, n, paths) < 0) {
		diag_print(d, stderr, false);
		fprintf(stderr, "bench_grade: cannot set up the class\n");
		return 3;
	}
	double t0 = now_s();
	int points = 0;
	int rc = grade_class(k, paths, n, &points);
	double wall = now_s() - t0;
	printf("graded %d submissions (%zu checks each) in %.3f s wall, %.2f ms each; "
	       "%d of %d points given (target: 30 in <= 2 s)\n",
	       n, k->n_checks, wall, wall * 1e3 / n, points, n * k->total);
	for (int i = 0; i < n; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	rmdir(dir);
	free(paths);
	key_free(k);
	diag_free(d);
	return rc < 0 ? 3 : 0;
}
