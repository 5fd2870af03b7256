/*
 * sweep_plot.c - natsim sweep's plot: a gnuplot script, and gnuplot run on it
 * through a pipe.
 */
#include "app/cli/sweep_plot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool sweep_known_curve(const struct sweep_report *r, struct sweep_plot_curve *out)
{
	const struct sweep_curve *c = r->curve;
	if (c == NULL || c->kind != SWEEP_CURVE_BIRTHDAY)
		return false;
	snprintf(out->title, sizeof(out->title), "1-(1-K/R)^n, K = %u, R = %u", c->open_ports,
		 c->port_range);
	snprintf(out->expr, sizeof(out->expr), "1-(1-%u.0/%u)**x", c->open_ports, c->port_range);
	return true;
}

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);
	return n >= m && strcmp(s + n - m, end) == 0;
}

/* A number, then the unit: "10%" gives 10 and "%". False if no number. */
static bool split_number(const char *v, double *x, const char **unit)
{
	char *end;
	*x = strtod(v, &end);
	*unit = end;
	return end != v && isfinite(*x); /* "inf" and "nan" are words here */
}

bool sweep_plot_numeric(const struct sweep_report *r, char *unit, size_t size)
{
	const char *first = NULL, *u;
	double x;
	if (r->n_vary != 1)
		return false;
	for (size_t i = 0; i < r->vary[0].n_values; i++) {
		if (!split_number(r->vary[0].values[i], &x, &u) || (first && strcmp(u, first)))
			return false;
		first = u;
	}
	snprintf(unit, size, "%s", first ? first : "");
	return true;
}

/* A gnuplot string in single quotes (where '' is a quote); a tic label is
 * also a format, where %% is a percent sign. */
static void put_string(FILE *f, const char *s, bool format)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || (format && *s == '%'))
			fputc(*s, f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static void put_quoted(FILE *f, const char *s)
{
	put_string(f, s, false);
}

static void script_head(FILE *f, const struct sweep_report *r, const char *output, bool numeric,
			const char *unit)
{
	fprintf(f, "# natsim sweep of %s: %llu trials per point, seeds derived from %llu.\n",
		r->scenario, (unsigned long long)r->trials, (unsigned long long)r->seed);
	fprintf(f,
		"# Draw it again (or change it first): gnuplot THIS_FILE (Debian: gnuplot-nox)\n");
	fprintf(f, "set terminal %s size 900,540 font 'sans,12' noenhanced\n",
		ends_with(output, ".png") ? "pngcairo" : "svg");
	fputs("set output ", f);
	put_quoted(f, output);
	fputs("\nset title ", f);
	put_quoted(f, r->title);
	fputs("\nset xlabel ", f);
	char xlabel[256];
	if (r->n_vary == 0)
		snprintf(xlabel, sizeof(xlabel), "the scenario as written");
	else if (numeric && unit[0])
		snprintf(xlabel, sizeof(xlabel), "%s (%s)", r->vary[0].key, unit);
	else
		snprintf(xlabel, sizeof(xlabel), "%s", r->vary[0].key);
	for (size_t k = 1; k < r->n_vary; k++)
		snprintf(xlabel + strlen(xlabel), sizeof(xlabel) - strlen(xlabel), ", %s",
			 r->vary[k].key);
	put_quoted(f, xlabel);
	fputs("\nset ylabel 'share of trials (95 % Wilson interval)'\n"
	      "set yrange [-0.02:1.02]\nset grid ytics\nset key outside right top\n",
	      f);
	if (numeric) {
		fputs("set offsets graph 0.04, graph 0.04, 0, 0\n", f);
		return;
	}
	/* One tick per point, named by its values. */
	fprintf(f, "set xrange [-0.5:%zu.5]\nset xtics rotate by -20 (", r->n_points - 1);
	for (size_t p = 0; p < r->n_points; p++) {
		char label[256];
		sweep_point_label(r, p, ", ", label, sizeof(label));
		put_string(f, label, true);
		fprintf(f, " %zu%s", p, p + 1 < r->n_points ? ", " : ")\n");
	}
}

/* Under a curve: its points doubling (16, 32, ... 2048, as a birthday sweep
 * runs them) read best on a log-2 axis, where 1 - (1 - K/R)^n is the
 * familiar S; the key goes below, out of the curve's way. */
static void script_curve_axes(FILE *f, const struct sweep_report *r)
{
	double x, lo = 0, hi = 0;
	const char *unit;
	for (size_t i = 0; i < r->vary[0].n_values; i++) {
		split_number(r->vary[0].values[i], &x, &unit);
		lo = i == 0 || x < lo ? x : lo;
		hi = i == 0 || x > hi ? x : hi;
	}
	if (lo > 0 && hi >= 8 * lo)
		fputs("set logscale x 2\nset offsets 0, 0, 0, 0\n", f);
	fputs("set samples 400\nset key below\n", f);
}

/* One block per pair (gnuplot's `index`): x, label, then share, low and
 * high of each outcome. */
static void script_data(FILE *f, const struct sweep_report *r, bool numeric)
{
	fputs("$sweep << EOD\n# x label direct low high relayed low high failed low high\n", f);
	for (size_t i = 0; i < r->n_pairs; i++) {
		if (i)
			fputs("\n\n", f);
		for (size_t p = 0; p < r->n_points; p++) {
			const struct sweep_summary *s = &r->summaries[p * r->n_pairs + i];
			char label[256];
			double x = (double)p;
			const char *unit;
			sweep_point_label(r, p, ",", label, sizeof(label));
			for (char *q = strchr(label, '"'); q; q = strchr(q, '"'))
				*q = '\''; /* the label is a gnuplot "string" */
			if (numeric)
				split_number(label, &x, &unit);
			fprintf(f, "%g \"%s\"", x, label);
			for (int o = 0; o < SWEEP_OUTCOMES; o++)
				fprintf(f, " %.6f %.6f %.6f", s->share[o].share, s->share[o].low,
					s->share[o].high);
			fputc('\n', f);
		}
	}
	fputs("EOD\n", f);
}

static void script_plot(FILE *f, const struct sweep_report *r, bool numeric,
			const struct sweep_plot_curve *curve)
{
	fputs("plot ", f);
	for (size_t i = 0; i < r->n_pairs; i++)
		for (int o = 0; o < SWEEP_OUTCOMES; o++) {
			char title[300];
			int col = 3 + 3 * o;
			snprintf(title, sizeof(title), "%s-%s %s", r->pairs[i].a, r->pairs[i].b,
				 sweep_outcome_name(o));
			/* Categorical points side by side, so their bars do not hide
			 * each other. */
			if (numeric)
				fprintf(f, "%s$sweep index %zu using 1:%d:%d:%d",
					i + o ? ", \\\n     " : "", i, col, col + 1, col + 2);
			else
				fprintf(f, "%s$sweep index %zu using ($1%+.2f):%d:%d:%d",
					i + o ? ", \\\n     " : "", i,
					0.06 * (o - 1) + 0.02 * (double)i, col, col + 1, col + 2);
			/* A line between categories would suggest values between them. */
			fputs(numeric ? " with yerrorlines title "
				      : " with yerrorbars pointtype 7 title ",
			      f);
			put_quoted(f, title);
		}
	if (curve) {
		fprintf(f, ", \\\n     %s with lines dashtype 2 title ", curve->expr);
		put_quoted(f, curve->title);
	}
	fputc('\n', f);
}

char *sweep_plot_script(const struct sweep_report *r, const char *output,
			const struct sweep_plot_curve *curve, size_t *len)
{
	char *buf = NULL, unit[16] = "";
	FILE *f = open_memstream(&buf, len);
	if (f == NULL)
		return NULL;
	bool numeric = sweep_plot_numeric(r, unit, sizeof(unit));
	script_head(f, r, output, numeric, unit);
	if (numeric && curve)
		script_curve_axes(f, r);
	script_data(f, r, numeric);
	script_plot(f, r, numeric, numeric ? curve : NULL);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* gnuplot on PATH, as execvp will look for it. */
static bool gnuplot_found(void)
{
	const char *path = getenv("PATH");
	char file[4096];
	if (path == NULL)
		path = "/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(file, sizeof(file), "%.*s/gnuplot", (int)n, n ? p : ".");
		if (access(file, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

int sweep_plot_check(const char *output, char *msg, size_t size)
{
	if (!ends_with(output, ".svg") && !ends_with(output, ".png")) {
		snprintf(msg, size, "--plot expects a file ending in .svg or .png, not '%s'",
			 output);
		return -1;
	}
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", output);
	if (access(dirname(dir), W_OK) != 0) {
		snprintf(msg, size, "--plot: cannot write %s: %s", output, strerror(errno));
		return -1;
	}
	if (!gnuplot_found()) {
		snprintf(msg, size,
			 "--plot needs gnuplot, which is not installed here (Debian: apt-get "
			 "install gnuplot-nox); --plot-script FILE writes the script to draw it "
			 "elsewhere");
		return -1;
	}
	return 0;
}

/* Feed `script` to a gnuplot child; its exit status, or -1 if it did not run. */
static int run_gnuplot(const char *script, size_t len)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* The picture goes to the file the script names, never to our
		 * stdout (gnuplot falls back to stdout if it cannot open it). */
		int null = open("/dev/null", O_WRONLY);
		dup2(p[0], STDIN_FILENO);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execlp("gnuplot", "gnuplot", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	/* gnuplot may stop reading (a script error): a write must fail, not
	 * kill natsim with SIGPIPE. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	for (size_t done = 0; pid > 0 && done < len;) {
		ssize_t n = write(p[1], script + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(p[1]);
	signal(SIGPIPE, old);
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int sweep_plot_draw(const struct sweep_report *r, const char *output,
		    const struct sweep_plot_curve *curve, char *msg, size_t size)
{
	/* Beside output, so that the rename stays on one file system; the
	 * same ending, so gnuplot's terminal is the one asked for. */
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%.4000s.%ld.part%s", output, (long)getpid(),
		 ends_with(output, ".png") ? ".png" : ".svg");
	size_t len;
	char *script = sweep_plot_script(r, tmp, curve, &len);
	if (script == NULL) {
		snprintf(msg, size, "out of memory for the plot");
		return -1;
	}
	int status = run_gnuplot(script, len);
	free(script);
	if (status == 0 && rename(tmp, output) == 0)
		return 0;
	int err = errno;
	unlink(tmp);
	if (status == 0)
		snprintf(msg, size, "--plot: cannot write %s: %s", output, strerror(err));
	else if (status == 127 || status < 0)
		snprintf(msg, size, "--plot: gnuplot could not be run");
	else
		snprintf(msg, size, "--plot: gnuplot failed (status %d) drawing %s", status,
			 output);
	return -1;
}
