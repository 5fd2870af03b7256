/*
 * bench/gift.c - exporting a class's worth of student variants to Moodle GIFT.
 *
 *	bench_gift [N [EXERCISE]]   (default: 30 students, the bundled
 *	                             course/01-hole-punch.nsim)
 *
 * What `natsim exercise EXERCISE --export gift --students N` does, without
 * the command line: parse the exercise once, then for each student "1".."N"
 * build that student's world, run it and write every question with its
 * computed answer (app/lesson/gift.h), into memory. Prints the wall time of
 * the whole export (parse included) and per student, and the size of the
 * text. Target (issue 14): 30 students in <= 2 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/lang/diag.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "app/lesson/gift.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 30;
	const char *path =
	    argc > 2 ? argv[2] : NATSIM_SOURCE_SCENARIOS "/course/01-hole-punch.nsim";
	char(*ids)[24] = calloc(n + 1, sizeof(*ids));
	const char **students = calloc(n + 1, sizeof(*students));
	struct diag *d = diag_new();
	if (n == 0 || ids == NULL || students == NULL || d == NULL) {
		fprintf(stderr, "usage: bench_gift [N >= 1 [EXERCISE]] (or out of memory)\n");
		return 2;
	}
	for (size_t k = 0; k < n; k++) {
		snprintf(ids[k], sizeof(ids[k]), "%zu", k + 1);
		students[k] = ids[k];
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	double t0 = now_s();
	struct exercise *x = exercise_load(path, d);
	struct exercise_options opt = {0};
	int rc = x != NULL && mem != NULL ? gift_export(mem, x, students, n, &opt, d) : -1;
	if (mem != NULL)
		fclose(mem);
	double wall = now_s() - t0;
	if (rc != 0) {
		diag_print(d, stderr, false);
		fprintf(stderr, "bench_gift: the export failed\n");
		return 1;
	}
	printf("GIFT export of %s: %zu students x %zu questions = %zu questions, %zu bytes\n", path,
	       n, x->n_questions, n * x->n_questions, len);
	printf("wall time %.3f s (%.1f ms per student); target for 30 students <= 2 s\n", wall,
	       wall * 1e3 / (double)n);
	exercise_free(x);
	diag_free(d);
	free(text);
	free(students);
	free(ids);
	return 0;
}
