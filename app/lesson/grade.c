/*
 * grade.c - grading a submission against a build task's key (grade.h).
 *
 * The key's expectations are appended to the student's text as `expect`
 * lines, below the student's last line, so every line number the scenario
 * parser or the runner reports tells whose line it is: up to the student's
 * last line, the student's; below it, the key's (one check per line).
 */
#include "app/lesson/grade.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "app/world/runner.h"

static const char *const status_names[] = {
    [GRADE_GRADED] = "graded", [GRADE_BROKEN] = "broken", [GRADE_MISFIT] = "misfit"};

const char *grade_status_name(enum grade_status s)
{
	return (size_t)s < 3 ? status_names[s] : "?";
}

/* ---- the student's text with the key's expectations below it ---- */

struct combined {
	char *text;
	size_t len;
	int sub_lines;	 /* the student's lines */
	int *check_line; /* the line of check i's `expect`, or 0 if not appended */
};

static void combined_fini(struct combined *c)
{
	free(c->text);
	free(c->check_line);
}

/* Append `expect CONDITION` for every expectation check still in `use`. */
static int combine(const struct key *k, const char *text, size_t len, const bool *use,
		   struct combined *c)
{
	size_t cap = len + 2;
	for (size_t i = 0; i < k->n_checks; i++)
		cap += strlen(k->checks[i].condition) + 9;
	c->text = malloc(cap);
	c->check_line = calloc(k->n_checks ? k->n_checks : 1, sizeof(int));
	if (c->text == NULL || c->check_line == NULL)
		return -1;
	memcpy(c->text, text, len);
	c->len = len;
	if (len && text[len - 1] != '\n')
		c->text[c->len++] = '\n';
	c->sub_lines = 0;
	for (size_t i = 0; i < c->len; i++)
		c->sub_lines += c->text[i] == '\n';
	int line = c->sub_lines;
	for (size_t i = 0; i < k->n_checks; i++) {
		if (k->checks[i].kind != KEY_CHECK_EXPECT || !use[i])
			continue;
		c->len += (size_t)snprintf(c->text + c->len, cap - c->len, "expect %s\n",
					   k->checks[i].condition);
		c->check_line[i] = ++line;
	}
	return 0;
}

static long check_of_line(const struct key *k, const struct combined *c, int line)
{
	for (size_t i = 0; i < k->n_checks; i++)
		if (c->check_line[i] && c->check_line[i] == line)
			return (long)i;
	return -1;
}

/* "KEY:LINE:COL: MESSAGE" for a diagnostic about check i's appended line:
 * the column moves from after "expect " to where the condition starts. */
static void key_place(const struct key *k, size_t i, const struct diagnostic *dg, char *out,
		      size_t n)
{
	const struct key_check *c = &k->checks[i];
	int col = dg->col > 7 ? c->cond_col + dg->col - 8 : c->cond_col;
	snprintf(out, n, "%s:%d:%d: %s", k->filename, c->line, col, dg->message);
}

/* The combined text did not parse: blame the checks whose lines have the
 * errors (or, for an error nobody's line holds, every appended check).
 * Returns how many checks were newly blamed. */
static size_t blame_checks(const struct key *k, const struct combined *c, const struct diag *d,
			   bool *use, struct grade *g)
{
	size_t blamed = 0;
	for (size_t e = 0; e < diag_count(d); e++) {
		const struct diagnostic *dg = diag_get(d, e);
		if (dg->severity != DIAG_ERROR)
			continue;
		long i = check_of_line(k, c, dg->line);
		for (size_t j = 0; j < k->n_checks; j++) {
			if (!use[j] || c->check_line[j] == 0 || (i >= 0 && (size_t)i != j))
				continue;
			char at[GRADE_WHY_MAX - 60];
			key_place(k, j, dg, at, sizeof(at));
			snprintf(g->checks[j].why, GRADE_WHY_MAX,
				 "the key does not fit this submission: %s", at);
			g->checks[j].fits = false;
			use[j] = false;
			blamed++;
		}
	}
	return blamed;
}

/* ---- structural checks ---- */

static const char *compare_words(enum key_compare c)
{
	return c == KEY_AT_MOST ? "at most" : c == KEY_AT_LEAST ? "at least" : "exactly";
}

static size_t count_rules(const struct scenario *s, const char *node)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_rules; i++)
		n += strcmp(s->rules[i].node.name, node) == 0;
	return n;
}

static bool has_node(const struct scenario *s, const char *node)
{
	return scenario_find_host(s, node) || scenario_find_nat(s, node) ||
	       (s->coordinator && strcmp(s->coordinator->name, node) == 0);
}

static void grade_rules(const struct key_check *c, const struct key *k, const struct scenario *s,
			struct grade_check *out)
{
	if (!has_node(s, c->node)) {
		snprintf(out->why, GRADE_WHY_MAX,
			 "the key does not fit this submission: %s:%d:%d: no node '%s' here",
			 k->filename, c->line, c->cond_col, c->node);
		out->fits = false;
		return;
	}
	size_t n = count_rules(s, c->node);
	out->passed = key_compare_holds(c->cmp, (long)n, c->limit);
	if (!out->passed)
		snprintf(out->why, GRADE_WHY_MAX, "%s has %zu rule%s, the task asks for %s %ld",
			 c->node, n, n == 1 ? "" : "s", compare_words(c->cmp), c->limit);
}

static void grade_changed(const struct key_check *c, const struct key *k, const char *text,
			  size_t len, struct grade_check *out)
{
	long n = k->base_text ? grade_lines_changed(k->base_text, k->base_len, text, len) : -1;
	if (n < 0) {
		snprintf(out->why, GRADE_WHY_MAX, "cannot compare with the world handed out (%s)",
			 k->base_text ? "too many lines" : "the key's base was not read");
		return;
	}
	out->passed = key_compare_holds(c->cmp, n, c->limit);
	if (!out->passed)
		snprintf(out->why, GRADE_WHY_MAX,
			 "%ld line%s from the world handed out, the task allows %s %ld", n,
			 n == 1 ? " differs" : "s differ", compare_words(c->cmp), c->limit);
}

static void grade_structure(const struct key *k, const struct scenario *s, const char *text,
			    size_t len, struct grade *g)
{
	for (size_t i = 0; i < k->n_checks; i++) {
		if (k->checks[i].kind == KEY_CHECK_RULES)
			grade_rules(&k->checks[i], k, s, &g->checks[i]);
		else if (k->checks[i].kind == KEY_CHECK_CHANGED)
			grade_changed(&k->checks[i], k, text, len, &g->checks[i]);
	}
}

/* ---- running the expectations ---- */

/* The first error of `d` as "file:line:col: message". */
static void first_error(const struct diag *d, char *out, size_t n)
{
	for (size_t e = 0; e < diag_count(d); e++) {
		const struct diagnostic *dg = diag_get(d, e);
		if (dg->severity != DIAG_ERROR)
			continue;
		if (dg->line > 0)
			snprintf(out, n, "%s:%d:%d: %s", dg->file ? dg->file : "?", dg->line,
				 dg->col, dg->message);
		else
			snprintf(out, n, "%s%s%s", dg->file ? dg->file : "", dg->file ? ": " : "",
				 dg->message);
		return;
	}
	snprintf(out, n, "cannot be read (out of memory)");
}

static void read_verdicts(const struct key *k, const struct combined *c, const struct run_result *r,
			  struct grade *g)
{
	for (size_t i = 0; i < k->n_checks; i++)
		if (c->check_line[i])
			snprintf(g->checks[i].why, GRADE_WHY_MAX, "the run gave no verdict on it");
	for (size_t v = 0; v < r->n_verdicts; v++) {
		const struct run_verdict *rv = &r->verdicts[v];
		long i = check_of_line(k, c, rv->expect->loc.line);
		if (i < 0)
			continue; /* the student's own expectation */
		g->checks[i].passed = rv->passed;
		g->checks[i].why[0] = 0;
		if (!rv->passed)
			snprintf(g->checks[i].why, GRADE_WHY_MAX, "expected %s, but %s", rv->text,
				 rv->why);
	}
}

/* Parse the combined text, leaving out the checks that do not fit, until it
 * parses. NULL: memory, or an error no check can be blamed for. */
static struct scenario *parse_fitting(const struct key *k, const char *name, const char *text,
				      size_t len, bool *use, struct combined *c, struct grade *g)
{
	for (;;) {
		struct diag *d = diag_new();
		if (d == NULL || combine(k, text, len, use, c) < 0) {
			diag_free(d);
			return NULL;
		}
		struct scenario *s = scenario_parse(c->text, c->len, name, d);
		size_t blamed = s ? 0 : blame_checks(k, c, d, use, g);
		diag_free(d);
		if (s || blamed == 0)
			return s;
		combined_fini(c);
		memset(c, 0, sizeof(*c));
	}
}

static int run_expectations(const struct key *k, const char *name, const char *text, size_t len,
			    struct grade *g)
{
	bool *use = malloc(k->n_checks ? k->n_checks : 1);
	if (use == NULL)
		return -1;
	for (size_t i = 0; i < k->n_checks; i++)
		use[i] = true;
	struct combined c = {0};
	struct scenario *s = parse_fitting(k, name, text, len, use, &c, g);
	free(use);
	int rc = -1;
	struct diag *d = diag_new();
	struct run_options opt = {
	    .has_seed = k->has_seed, .seed = k->seed, .until_ns = SCENARIO_UNSET};
	struct run_result r;
	if (s && d && runner_run(s, &opt, &r, d) == 0) {
		read_verdicts(k, &c, &r, g);
		run_result_free(&r);
		rc = 0;
	} else if (s && d) { /* the world could not be built: the student's fault */
		g->status = GRADE_BROKEN;
		first_error(d, g->error, sizeof(g->error));
		rc = 0;
	}
	diag_free(d);
	scenario_free(s);
	combined_fini(&c);
	return rc;
}

/* ---- one submission ---- */

static void add_up(const struct key *k, struct grade *g)
{
	g->score = 0;
	for (size_t i = 0; i < k->n_checks; i++) {
		if (g->status == GRADE_BROKEN) {
			g->checks[i].passed = false;
			snprintf(g->checks[i].why, GRADE_WHY_MAX, "the submission is broken: %.*s",
				 GRADE_WHY_MAX - 40, g->error);
		}
		if (!g->checks[i].fits && g->status == GRADE_GRADED)
			g->status = GRADE_MISFIT;
		if (g->checks[i].passed)
			g->score += k->checks[i].points;
	}
}

static int grade_init(const struct key *k, const char *name, struct grade *g)
{
	memset(g, 0, sizeof(*g));
	g->file = strdup(name);
	g->checks = calloc(k->n_checks ? k->n_checks : 1, sizeof(*g->checks));
	g->total = k->total;
	if (g->file == NULL || g->checks == NULL)
		return -1;
	for (size_t i = 0; i < k->n_checks; i++)
		g->checks[i].fits = true;
	return 0;
}

int grade_text(const struct key *k, const char *name, const char *text, size_t len, struct grade *g)
{
	if (grade_init(k, name, g) < 0)
		return -1;
	struct diag *d = diag_new();
	if (d == NULL)
		return -1;
	struct scenario *s = scenario_parse(text, len, name, d);
	int rc = 0;
	if (s == NULL) {
		g->status = GRADE_BROKEN;
		first_error(d, g->error, sizeof(g->error));
	} else {
		grade_structure(k, s, text, len, g);
		rc = run_expectations(k, name, text, len, g);
	}
	scenario_free(s);
	diag_free(d);
	if (rc == 0)
		add_up(k, g);
	return rc;
}

int grade_file(const struct key *k, const char *path, struct grade *g)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	while (f && len <= SCENARIO_MAX_FILE) {
		if (len + 4096 > cap) {
			char *nt = realloc(text, cap = cap * 2 + 8192);
			if (nt == NULL)
				break;
			text = nt;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int err = f == NULL ? errno : ferror(f) ? EIO : len > SCENARIO_MAX_FILE ? EFBIG : 0;
	if (f)
		fclose(f);
	if (err || text == NULL) {
		free(text);
		if (grade_init(k, path, g) < 0)
			return -1;
		g->status = GRADE_BROKEN;
		snprintf(g->error, sizeof(g->error), "%s: cannot read: %s", path,
			 strerror(err ? err : ENOMEM));
		add_up(k, g);
		return 0;
	}
	int rc = grade_text(k, path, text, len, g);
	free(text);
	return rc;
}

void grade_fini(struct grade *g)
{
	free(g->file);
	free(g->checks);
	memset(g, 0, sizeof(*g));
}

size_t key_fits_base(const struct key *k, struct diag *d)
{
	if (k->base_text == NULL)
		return 0;
	struct grade g;
	if (grade_init(k, k->base_file ? k->base_file : "base", &g) < 0)
		return 1;
	size_t errors = 0;
	struct diag *pd = diag_new();
	struct scenario *s = pd ? scenario_parse(k->base_text, k->base_len, g.file, pd) : NULL;
	bool *use = malloc(k->n_checks ? k->n_checks : 1);
	struct combined c = {0};
	if (s && use) {
		memset(use, 1, k->n_checks);
		grade_structure(k, s, k->base_text, k->base_len, &g);
		scenario_free(parse_fitting(k, g.file, k->base_text, k->base_len, use, &c, &g));
	}
	struct diag_span none = {NULL, 0, 0, 0, NULL, 0};
	if (s == NULL) {
		first_error(pd, g.error, sizeof(g.error));
		diag_add(d, DIAG_ERROR, &none, "the key's base world is broken: %s", g.error);
		errors++;
	}
	for (size_t i = 0; s && i < k->n_checks; i++)
		if (!g.checks[i].fits) {
			diag_add(d, DIAG_ERROR, &none,
				 "check '%s' does not fit the base world %s: %s", k->checks[i].id,
				 g.file, g.checks[i].why);
			errors++;
		}
	free(use);
	combined_fini(&c);
	scenario_free(s);
	diag_free(pd);
	grade_fini(&g);
	return errors;
}

/* ---- how far a text is from the base ---- */

/* The lines that mean something: comments, blank lines and extra blanks out. */
static size_t meaningful_lines(const char *text, size_t len, char ***out)
{
	char **lines = NULL;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		char *l = malloc(e - i + 1);
		size_t m = 0;
		bool quoted = false, blank = false;
		for (size_t j = i; l && j < e; j++) {
			char ch = text[j];
			if (ch == '"')
				quoted = !quoted;
			if (ch == '#' && !quoted)
				break;
			bool is_blank = ch == ' ' || ch == '\t' || ch == '\r';
			if (is_blank && !quoted) {
				blank = m > 0;
				continue;
			}
			if (blank)
				l[m++] = ' ';
			blank = false;
			l[m++] = ch;
		}
		i = e + 1;
		if (l == NULL || m == 0 || n == GRADE_DIFF_MAX_LINES + 1) {
			free(l);
			continue;
		}
		l[m] = 0;
		char **nl = realloc(lines, (n + 1) * sizeof(*nl));
		if (nl == NULL) {
			free(l);
			break;
		}
		lines = nl;
		lines[n++] = l;
	}
	*out = lines;
	return n;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* The longest common subsequence of two line lists, two rows at a time. */
static long common_lines(char **a, size_t na, char **b, size_t nb)
{
	size_t *prev = calloc(nb + 1, sizeof(size_t)), *cur = calloc(nb + 1, sizeof(size_t));
	long result = -1;
	if (prev && cur) {
		for (size_t i = 1; i <= na; i++) {
			for (size_t j = 1; j <= nb; j++)
				cur[j] = strcmp(a[i - 1], b[j - 1]) == 0 ? prev[j - 1] + 1
					 : prev[j] > cur[j - 1]		 ? prev[j]
									 : cur[j - 1];
			size_t *t = prev;
			prev = cur;
			cur = t;
		}
		result = (long)prev[nb];
	}
	free(prev);
	free(cur);
	return result;
}

long grade_lines_changed(const char *base, size_t base_len, const char *text, size_t len)
{
	char **a, **b;
	size_t na = meaningful_lines(base, base_len, &a), nb = meaningful_lines(text, len, &b);
	long common = na > GRADE_DIFF_MAX_LINES || nb > GRADE_DIFF_MAX_LINES
			  ? -1
			  : common_lines(a, na, b, nb);
	free_lines(a, na);
	free_lines(b, nb);
	if (common < 0)
		return -1;
	long removed = (long)na - common, added = (long)nb - common;
	return removed > added ? removed : added;
}
