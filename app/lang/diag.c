/*
 * diag.c - collect diagnostics and render them gcc-style.
 */
#include "app/lang/diag.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct diag {
	struct diagnostic *items;
	size_t n, cap;
	size_t n_errors, n_warnings;
};

#define COLOR_RESET "\033[m"
#define COLOR_BOLD "\033[01m"
#define COLOR_ERROR "\033[01;31m"
#define COLOR_WARNING "\033[01;35m"
#define COLOR_NOTE "\033[01;36m"
#define TAB_STOP 8
#define DIST_MAX_LEN 64

struct diag *diag_new(void)
{
	return calloc(1, sizeof(struct diag));
}

static void diagnostic_fini(struct diagnostic *dg)
{
	free(dg->file);
	free(dg->message);
	free(dg->src);
}

void diag_clear(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		diagnostic_fini(&d->items[i]);
	d->n = 0;
	d->n_errors = 0;
	d->n_warnings = 0;
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	diag_clear(d);
	free(d->items);
	free(d);
}

static char *dup_bytes(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static int grow(struct diag *d)
{
	if (d->n < d->cap)
		return 0;
	size_t cap = d->cap ? d->cap * 2 : 8;
	struct diagnostic *items = realloc(d->items, cap * sizeof(*items));

	if (!items)
		return -1;
	d->items = items;
	d->cap = cap;
	return 0;
}

/* Fill dg from the span; 0 or -1 on OOM (dg then holds what it could). */
static int fill_span(struct diagnostic *dg, const struct diag_span *at)
{
	if (!at)
		return 0;
	dg->line = at->line > 0 ? at->line : 0;
	dg->col = at->col > 0 ? at->col : 0;
	dg->len = at->len > 0 ? at->len : 1;
	if (at->file) {
		dg->file = dup_bytes(at->file, strlen(at->file));
		if (!dg->file)
			return -1;
	}
	if (at->src && dg->line > 0) {
		size_t n = at->src_len < DIAG_MAX_SRC ? at->src_len : DIAG_MAX_SRC;

		dg->src = dup_bytes(at->src, n);
		if (!dg->src)
			return -1;
		dg->src_len = n;
	}
	return 0;
}

int diag_addv(struct diag *d, enum diag_severity sev, const struct diag_span *at, const char *fmt,
	      va_list ap)
{
	struct diagnostic dg = {.severity = sev};
	char buf[DIAG_MAX_MESSAGE];

	if (!d)
		return -1;
	if (sev == DIAG_ERROR)
		d->n_errors++;
	else if (sev == DIAG_WARNING)
		d->n_warnings++;
	if (vsnprintf(buf, sizeof(buf), fmt, ap) < 0)
		buf[0] = '\0';
	dg.message = dup_bytes(buf, strlen(buf));
	if (!dg.message || fill_span(&dg, at) < 0 || grow(d) < 0) {
		diagnostic_fini(&dg);
		return -1;
	}
	d->items[d->n++] = dg;
	return 0;
}

int diag_add(struct diag *d, enum diag_severity sev, const struct diag_span *at, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = diag_addv(d, sev, at, fmt, ap);
	va_end(ap);
	return rc;
}

int diag_error(struct diag *d, const char *file, int line, int col, const char *src_line_start,
	       size_t src_line_len, const char *fmt, ...)
{
	struct diag_span at = {
	    .file = file,
	    .line = line,
	    .col = col,
	    .len = 1,
	    .src = src_line_start,
	    .src_len = src_line_len,
	};
	va_list ap;

	va_start(ap, fmt);
	int rc = diag_addv(d, DIAG_ERROR, &at, fmt, ap);
	va_end(ap);
	return rc;
}

size_t diag_count_errors(const struct diag *d)
{
	return d ? d->n_errors : 0;
}

size_t diag_count_warnings(const struct diag *d)
{
	return d ? d->n_warnings : 0;
}

size_t diag_count(const struct diag *d)
{
	return d ? d->n : 0;
}

const struct diagnostic *diag_get(const struct diag *d, size_t i)
{
	return d && i < d->n ? &d->items[i] : NULL;
}

/* A diagnostic with the notes that follow it. */
struct diag_group {
	size_t start, count;
	int line, col;
};

static int group_cmp(const void *va, const void *vb)
{
	const struct diag_group *a = va, *b = vb;
	unsigned la = a->line > 0 ? (unsigned)a->line : UINT32_MAX;
	unsigned lb = b->line > 0 ? (unsigned)b->line : UINT32_MAX;

	if (la != lb)
		return la < lb ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start; /* stable */
}

void diag_sort(struct diag *d, size_t from)
{
	if (!d || from + 1 >= d->n)
		return;
	size_t n = d->n - from, n_groups = 0;
	struct diag_group *groups = malloc(n * sizeof(*groups));
	struct diagnostic *sorted = malloc(n * sizeof(*sorted));

	if (!groups || !sorted)
		goto out; /* unsorted is still correct */
	for (size_t i = from; i < d->n; i++) {
		const struct diagnostic *dg = &d->items[i];

		if (dg->severity == DIAG_NOTE && n_groups > 0) {
			groups[n_groups - 1].count++;
			continue;
		}
		groups[n_groups++] = (struct diag_group){i, 1, dg->line, dg->col};
	}
	qsort(groups, n_groups, sizeof(*groups), group_cmp);
	for (size_t g = 0, k = 0; g < n_groups; g++)
		for (size_t j = 0; j < groups[g].count; j++)
			sorted[k++] = d->items[groups[g].start + j];
	memcpy(d->items + from, sorted, n * sizeof(*sorted));
out:
	free(groups);
	free(sorted);
}

/* Length of a valid UTF-8 sequence starting at s (at most n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	uint32_t cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Write the source line made printable, and compute the display columns of
 * byte offsets (col-1) and (col-1+len) so the caret line can line up.
 */
static int print_source(const struct diagnostic *dg, FILE *out, size_t *caret_from,
			size_t *caret_to)
{
	const unsigned char *s = (const unsigned char *)dg->src;
	size_t want_from = (size_t)dg->col - 1, want_to = want_from + (size_t)dg->len;
	size_t disp = 0, i = 0;

	*caret_from = *caret_to = SIZE_MAX;
	while (i <= dg->src_len) {
		if (i == want_from)
			*caret_from = disp;
		if (i >= want_to && *caret_to == SIZE_MAX)
			*caret_to = disp;
		if (i == dg->src_len)
			break;
		size_t step = 1;
		if (s[i] == '\t') {
			size_t next = (disp / TAB_STOP + 1) * TAB_STOP;
			for (; disp < next; disp++)
				fputc(' ', out);
			i++;
			continue;
		}
		if (s[i] >= 0x80 && (step = utf8_seq_len(s + i, dg->src_len - i)) > 0) {
			/* C1 controls (U+0080-U+009F): U+009B is CSI to some terminals. */
			if (s[i] == 0xc2 && s[i + 1] < 0xa0)
				fputc('?', out);
			else
				fwrite(s + i, 1, step, out);
		} else if (s[i] < 0x20 || s[i] >= 0x7f)
			fputc('?', out), step = 1;
		else
			fputc(s[i], out);
		/* A fault that starts inside a multi-byte character starts at it. */
		if (want_from > i && want_from < i + step)
			*caret_from = disp;
		disp++;
		i += step;
	}
	if (*caret_to == SIZE_MAX)
		*caret_to = disp + (want_to > dg->src_len ? want_to - dg->src_len : 0);
	return fputc('\n', out) == EOF ? -1 : 0;
}

static const char *severity_name(enum diag_severity sev)
{
	switch (sev) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	case DIAG_NOTE:
		return "note";
	}
	return "error";
}

static const char *severity_color(enum diag_severity sev)
{
	return sev == DIAG_WARNING ? COLOR_WARNING : sev == DIAG_NOTE ? COLOR_NOTE : COLOR_ERROR;
}

static void print_header(const struct diagnostic *dg, FILE *out, bool color)
{
	bool any = dg->file || dg->line > 0;

	if (any && color)
		fputs(COLOR_BOLD, out);
	if (dg->file)
		fprintf(out, "%s:", dg->file);
	if (dg->line > 0)
		fprintf(out, "%d:", dg->line);
	if (dg->line > 0 && dg->col > 0)
		fprintf(out, "%d:", dg->col);
	if (any)
		fprintf(out, "%s ", color ? COLOR_RESET : "");
	fprintf(out, "%s%s:%s %s\n", color ? severity_color(dg->severity) : "",
		severity_name(dg->severity), color ? COLOR_RESET : "", dg->message);
}

static void print_caret(const struct diagnostic *dg, FILE *out, bool color, size_t from, size_t to)
{
	fputs("      | ", out);
	for (size_t i = 0; i < from; i++)
		fputc(' ', out);
	if (color)
		fputs(severity_color(dg->severity), out);
	fputc('^', out);
	for (size_t i = from + 1; i < to; i++)
		fputc('~', out);
	if (color)
		fputs(COLOR_RESET, out);
	fputc('\n', out);
}

int diag_print_one(const struct diagnostic *dg, FILE *out, bool color)
{
	size_t from, to;

	print_header(dg, out, color);
	if (dg->src && dg->line > 0) {
		fprintf(out, "%5d | ", dg->line);
		print_source(dg, out, &from, &to);
		if (dg->col > 0 && from != SIZE_MAX)
			print_caret(dg, out, color, from, to);
	}
	return ferror(out) ? -1 : 0;
}

int diag_print(const struct diag *d, FILE *out, bool color)
{
	int rc = 0;

	for (size_t i = 0; d && i < d->n; i++)
		if (diag_print_one(&d->items[i], out, color) < 0)
			rc = -1;
	return rc;
}

size_t diag_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Three rows of the optimal-string-alignment table. */
	size_t prev2[DIST_MAX_LEN + 1], prev[DIST_MAX_LEN + 1], cur[DIST_MAX_LEN + 1];

	if (la > DIST_MAX_LEN || lb > DIST_MAX_LEN)
		return SIZE_MAX / 2;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca == cb ? 0 : 1;
			size_t best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		memcpy(prev2, prev, sizeof(prev));
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

const char *diag_suggest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = word ? strlen(word) : 0;
	size_t limit = len <= 3 ? 1 : 2, best_d = SIZE_MAX;
	const char *best = NULL;

	if (len == 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i] || strcmp(word, candidates[i]) == 0)
			continue;
		size_t dist = diag_distance(word, candidates[i]);
		if (dist <= limit && dist < len && dist < best_d) {
			best = candidates[i];
			best_d = dist;
		}
	}
	return best;
}
