/*
 * sweep_out.c - natsim sweep's results as text, CSV and JSON.
 */
#include "app/cli/sweep_out.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

void sweep_point_label(const struct sweep_report *r, size_t point, const char *sep, char *buf,
		       size_t size)
{
	size_t used = 0;
	snprintf(buf, size, "%s", r->n_vary ? "" : "(as written)");
	for (size_t k = 0; k < r->n_vary && used < size; k++) {
		const char *v = r->vary[k].values[sweep_point_value(r->vary, r->n_vary, point, k)];
		int n = snprintf(buf + used, size - used, "%s%s", k ? sep : "", v);
		used += n > 0 ? (size_t)n : 0;
	}
}

static const struct sweep_summary *summary_of(const struct sweep_report *r, size_t point,
					      size_t pair)
{
	return &r->summaries[point * r->n_pairs + pair];
}

/* ---- text ---- */

/* The widest of the vary's values and its key. */
static int vary_width(const struct sweep_vary *v)
{
	size_t w = strlen(v->key);
	for (size_t i = 0; i < v->n_values; i++)
		w = strlen(v->values[i]) > w ? strlen(v->values[i]) : w;
	return (int)w;
}

/* "alice ↔ bob" (or "alice <-> bob") into buf; returns its width in columns. */
static int pair_label(const struct sweep_pair *p, bool ascii, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s %s %s", p->a, ascii ? "<->" : "↔", p->b);
	return ascii ? n : n - 2; /* ↔ is three bytes, one column */
}

static int pair_width(const struct sweep_report *r, bool ascii)
{
	char buf[256];
	int w = 4; /* "pair" */
	for (size_t i = 0; i < r->n_pairs; i++) {
		int n = pair_label(&r->pairs[i], ascii, buf, sizeof(buf));
		w = n > w ? n : w;
	}
	return w;
}

/* "0.950 [0.900, 0.980]" */
static void print_share(FILE *f, const struct stats_share *s)
{
	fprintf(f, "  %.3f [%.3f, %.3f]", s->share, s->low, s->high);
}

static void print_time(FILE *f, int64_t ns)
{
	if (ns < 0)
		fprintf(f, "  %9s", "-");
	else
		fprintf(f, "  %7.3f s", ns / 1e9);
}

static void print_text_head(FILE *f, const struct sweep_report *r, int pw)
{
	fprintf(f, "%s\n  (%s: %llu trials per point, seeds derived from %llu)\n", r->title,
		r->scenario, (unsigned long long)r->trials, (unsigned long long)r->seed);
	if (r->plan)
		fprintf(f, "  (its bundled sweep: %s)\n", r->plan);
	fputc('\n', f);
	for (size_t k = 0; k < r->n_vary; k++)
		fprintf(f, "%-*s  ", vary_width(&r->vary[k]), r->vary[k].key);
	fprintf(f, "%-*s  %-20s  %-20s  %-20s  %9s  %9s\n", pw, "pair", "direct", "relayed",
		"failed", "median", "p90");
}

/* The curve's table: the measured direct share beside P(n) and the range
 * 99 % of sweeps would measure if P(n) were right. */
/* The points where the curve cannot hold, said under its table. */
static void print_text_limits(FILE *f, const struct sweep_report *r)
{
	bool said = false;
	for (size_t p = 0; p < r->n_points; p++) {
		const struct sweep_curve_point *cp = &r->curve_points[p];
		if (cp->limit != SWEEP_CURVE_HOLDS && !said)
			fprintf(f, "\"-\": this world cannot follow the curve at that n:\n");
		said |= cp->limit != SWEEP_CURVE_HOLDS;
		if (cp->limit == SWEEP_CURVE_RUN_ENDS)
			fprintf(f,
				"- at %s: the run ends before the last probe would leave (about "
				"%.1f s): run longer (--until)\n",
				r->vary[0].values[p], cp->last_probe_s);
		else if (cp->limit == SWEEP_CURVE_MAPPINGS_EXPIRE)
			fprintf(f,
				"- at %s: %s's first mappings time out before the last probe "
				"leaves (about %.1f s): the curve assumes all K stay open\n",
				r->vary[0].values[p], r->curve->hard, cp->last_probe_s);
	}
}

static void print_text_curve(FILE *f, const struct sweep_report *r, bool ascii)
{
	const struct sweep_curve *c = r->curve;
	char label[256];
	int kw = vary_width(&r->vary[0]);
	int w = pair_label(&r->pairs[c->pair], ascii, label, sizeof(label));
	fprintf(f,
		"\nThe birthday curve: %s probes random ports of %s's public address, where\n"
		"%s's %u sockets keep K = %u mappings open among the R = %u ports 1024-65535;\n"
		"n probes, each drawn uniformly and independently, find one with\n"
		"P(n) = 1 - (1 - K/R)^n. (%s's own socket, checking %s as ICE does, keeps\n"
		"one mapping more open to %s: the exact chance is 1 - (1 - (K+1)/R)^n, at\n"
		"most %.4f above P(n).)\n\n",
		c->prober, c->hard, c->hard, c->open_ports, c->open_ports, c->port_range, c->hard,
		c->prober, c->prober, sweep_curve_plus_one(c));
	fprintf(f, "%-*s  %-*s  %6s  %6s  %-16s  %s\n", kw, r->vary[0].key, w, "pair", "direct",
		"P(n)", "99 % range", "fits");
	for (size_t p = 0; p < r->n_points; p++) {
		const struct sweep_curve_point *cp = &r->curve_points[p];
		const struct sweep_summary *s = summary_of(r, p, c->pair);
		fprintf(f, "%-*s  %s  %6.3f  %6.3f  [%.3f, %.3f]    %s\n", kw, r->vary[0].values[p],
			label, s->share[SWEEP_DIRECT].share, cp->expected, cp->low, cp->high,
			cp->limit  ? "-"
			: cp->fits ? "yes"
				   : "NO");
	}
	fprintf(f,
		"\nThe 99 %% range holds the direct share of 99 %% of sweeps of %llu trials if\n"
		"P(n) is right (the binomial's own quantiles); \"NO\" says the measured share\n"
		"is outside it.\n",
		(unsigned long long)r->trials);
	print_text_limits(f, r);
}

int sweep_print_text(FILE *f, const struct sweep_report *r, bool ascii)
{
	int pw = pair_width(r, ascii);
	print_text_head(f, r, pw);
	for (size_t p = 0; p < r->n_points; p++)
		for (size_t i = 0; i < r->n_pairs; i++) {
			const struct sweep_summary *s = summary_of(r, p, i);
			char label[256];
			for (size_t k = 0; k < r->n_vary; k++)
				fprintf(
				    f, "%-*s  ", vary_width(&r->vary[k]),
				    r->vary[k].values[sweep_point_value(r->vary, r->n_vary, p, k)]);
			int w = pair_label(&r->pairs[i], ascii, label, sizeof(label));
			fprintf(f, "%s%*s", label, pw - w, "");
			for (int o = 0; o < SWEEP_OUTCOMES; o++)
				print_share(f, &s->share[o]);
			print_time(f, s->median_ns);
			print_time(f, s->p90_ns);
			fputc('\n', f);
		}
	fprintf(f, "\nShares are of trials ending direct, relayed or failed (no path at the end),\n"
		   "each with its 95 %% Wilson interval; median and p90 are the time from asking\n"
		   "to the first path the asking side saw, over the trials that found one.\n");
	if (r->curve)
		print_text_curve(f, r, ascii);
	return ferror(f) ? -1 : 0;
}

/* ---- CSV (RFC 4180) ---- */

/* A field, quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
	} else {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	fputc(last ? '\n' : ',', f);
}

static void csv_time(FILE *f, int64_t ns, bool last)
{
	if (ns >= 0)
		fprintf(f, "%.3f", ns / 1e6);
	fputc(last ? '\n' : ',', f);
}

static void csv_header(FILE *f, const struct sweep_report *r)
{
	for (size_t k = 0; k < r->n_vary; k++)
		csv_field(f, r->vary[k].key, false);
	fputs("a,b,trials", f);
	for (int o = 0; o < SWEEP_OUTCOMES; o++) {
		const char *n = sweep_outcome_name(o);
		fprintf(f, ",%s,%s_share,%s_low,%s_high", n, n, n, n);
	}
	fputs(",connected,connect_median_ms,connect_p90_ms", f);
	fputs(r->curve ? ",curve_p,curve_low,curve_high,curve_fits\n" : "\n", f);
}

/* yes, no, or why the curve cannot hold there. */
static const char *curve_fits_word(const struct sweep_curve_point *cp)
{
	return cp->limit == SWEEP_CURVE_RUN_ENDS	  ? "run-ends"
	       : cp->limit == SWEEP_CURVE_MAPPINGS_EXPIRE ? "mappings-expire"
	       : cp->fits				  ? "yes"
							  : "no";
}

/* The curve's columns of point p's row for pair i (empty: another pair). */
static void csv_curve(FILE *f, const struct sweep_report *r, size_t p, size_t i)
{
	const struct sweep_curve_point *cp = &r->curve_points[p];
	if (i != r->curve->pair)
		fputs(",,,\n", f);
	else
		fprintf(f, "%.4f,%.4f,%.4f,%s\n", cp->expected, cp->low, cp->high,
			curve_fits_word(cp));
}

int sweep_print_csv(FILE *f, const struct sweep_report *r)
{
	csv_header(f, r);
	for (size_t p = 0; p < r->n_points; p++)
		for (size_t i = 0; i < r->n_pairs; i++) {
			const struct sweep_summary *s = summary_of(r, p, i);
			for (size_t k = 0; k < r->n_vary; k++)
				csv_field(
				    f,
				    r->vary[k].values[sweep_point_value(r->vary, r->n_vary, p, k)],
				    false);
			csv_field(f, r->pairs[i].a, false);
			csv_field(f, r->pairs[i].b, false);
			fprintf(f, "%llu", (unsigned long long)s->trials);
			for (int o = 0; o < SWEEP_OUTCOMES; o++)
				fprintf(f, ",%llu,%.4f,%.4f,%.4f", (unsigned long long)s->count[o],
					s->share[o].share, s->share[o].low, s->share[o].high);
			fprintf(f, ",%llu,", (unsigned long long)s->connected);
			csv_time(f, s->median_ns, false);
			csv_time(f, s->p90_ns, r->curve == NULL);
			if (r->curve)
				csv_curve(f, r, p, i);
		}
	return ferror(f) ? -1 : 0;
}

int sweep_print_trials(FILE *f, const struct sweep_report *r)
{
	for (size_t k = 0; k < r->n_vary; k++)
		csv_field(f, r->vary[k].key, false);
	fputs("trial,seed,a,b,outcome,connect_ms\n", f);
	for (size_t p = 0; p < r->n_points; p++)
		for (uint64_t t = 0; t < r->trials; t++)
			for (size_t i = 0; i < r->n_pairs; i++) {
				const struct sweep_trial *x =
				    &r->results[(p * r->trials + t) * r->n_pairs + i];
				for (size_t k = 0; k < r->n_vary; k++)
					csv_field(f,
						  r->vary[k].values[sweep_point_value(
						      r->vary, r->n_vary, p, k)],
						  false);
				fprintf(f, "%llu,%llu,", (unsigned long long)t,
					(unsigned long long)sweep_trial_seed(r->seed, t));
				csv_field(f, r->pairs[i].a, false);
				csv_field(f, r->pairs[i].b, false);
				fprintf(f, "%s,", sweep_outcome_name(x->outcome));
				csv_time(f, x->connect_ns, true);
			}
	return ferror(f) ? -1 : 0;
}

/* ---- JSON ---- */

static json_t *json_share(uint64_t count, const struct stats_share *s)
{
	return json_pack("{s:I, s:f, s:f, s:f}", "count", (json_int_t)count, "share", s->share,
			 "low", s->low, "high", s->high);
}

static json_t *json_ms(int64_t ns)
{
	return ns >= 0 ? json_real(ns / 1e6) : json_null();
}

static json_t *json_pair(const struct sweep_pair *pair, const struct sweep_summary *s)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "a", pair->a, "b", pair->b, "trials",
			      (json_int_t)s->trials);
	for (int k = 0; o && k < SWEEP_OUTCOMES; k++)
		json_object_set_new(o, sweep_outcome_name(k),
				    json_share(s->count[k], &s->share[k]));
	if (o) {
		json_object_set_new(o, "connected", json_integer((json_int_t)s->connected));
		json_object_set_new(o, "connect_median_ms", json_ms(s->median_ns));
		json_object_set_new(o, "connect_p90_ms", json_ms(s->p90_ns));
	}
	return o;
}

static json_t *json_point(const struct sweep_report *r, size_t p)
{
	json_t *values = json_object(), *pairs = json_array();
	for (size_t k = 0; k < r->n_vary; k++)
		json_object_set_new(
		    values, r->vary[k].key,
		    json_string(r->vary[k].values[sweep_point_value(r->vary, r->n_vary, p, k)]));
	for (size_t i = 0; i < r->n_pairs; i++) {
		json_t *o = json_pair(&r->pairs[i], summary_of(r, p, i));
		if (o && r->curve && i == r->curve->pair) {
			const struct sweep_curve_point *cp = &r->curve_points[p];
			json_object_set_new(o, "curve",
					    json_pack("{s:f, s:f, s:f, s:f, s:s}", "n", cp->x, "p",
						      cp->expected, "low", cp->low, "high",
						      cp->high, "fits", curve_fits_word(cp)));
		}
		json_array_append_new(pairs, o);
	}
	return json_pack("{s:o, s:o}", "values", values, "pairs", pairs);
}

/* The curve as a whole: what it is and about whom; null without one. */
static json_t *json_curve(const struct sweep_report *r)
{
	const struct sweep_curve *c = r->curve;
	if (c == NULL)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f}", "name", sweep_curve_name(c->kind),
			 "formula", "1 - (1 - K/R)^n", "prober", c->prober, "hard", c->hard, "K",
			 (json_int_t)c->open_ports, "R", (json_int_t)c->port_range, "level",
			 SWEEP_CURVE_LEVEL);
}

/* A seed beyond JSON's safe integers (jansson's are signed 64-bit) as text. */
static json_t *json_seed(uint64_t seed)
{
	char buf[24];
	if (seed <= INT64_MAX)
		return json_integer((json_int_t)seed);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)seed);
	return json_string(buf);
}

int sweep_print_json(FILE *f, const struct sweep_report *r)
{
	json_t *vary = json_array(), *points = json_array();
	for (size_t k = 0; k < r->n_vary; k++)
		json_array_append_new(vary, json_string(r->vary[k].key));
	for (size_t p = 0; p < r->n_points; p++)
		json_array_append_new(points, json_point(r, p));
	json_t *root =
	    json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:o}", "scenario", r->scenario, "title",
		      r->title, "seed", json_seed(r->seed), "trials", (json_int_t)r->trials, "vary",
		      vary, "curve", json_curve(r), "points", points);
	if (root == NULL)
		return -1;
	int rc =
	    json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(root);
	return rc == 0 && !ferror(f) ? 0 : -1;
}
