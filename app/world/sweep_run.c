/*
 * sweep_run.c - a sweep's trials, in this process or in forked workers that
 * send each trial's result back over a pipe.
 */
#include "app/world/sweep_run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/lang/diag.h"
#include "app/world/runner.h"

/* What a worker sends per trial: this header, then n_pairs results. */
struct record_head {
	uint64_t unit;	/* point * trials + trial */
	int64_t status; /* 0, or the trial could not run (rerun here for the words) */
};

static enum sweep_outcome outcome_of(int path)
{
	return path == SCENARIO_PATH_DIRECT    ? SWEEP_DIRECT
	       : path == SCENARIO_PATH_RELAYED ? SWEEP_RELAYED
					       : SWEEP_FAILED;
}

/* Asking -> the first direct or relayed path the asking side saw, as natsim
 * run's outcome says "(0.487 s after asking)"; -1 if it saw none. (The
 * pair's connected_at is either side's first, which natsim matrix shows.) */
static int64_t connect_time(const struct run_pair *p)
{
	size_t kept = p->n_steps < RUN_HISTORY_MAX ? p->n_steps : RUN_HISTORY_MAX;
	for (size_t i = 0; i < kept; i++)
		if (p->steps[i].kind == RUN_STEP_DIRECT || p->steps[i].kind == RUN_STEP_RELAYED)
			return p->steps[i].at - p->connect_at;
	return -1;
}

/* Run one trial into out[n_pairs]. Returns 0, or an enum sweep_run_error. */
static int run_unit(const struct sweep_work *w, uint64_t unit, struct sweep_trial *out,
		    struct diag *d)
{
	uint64_t point = unit / w->trials, trial = unit % w->trials;
	struct run_options opt = {.has_seed = true, .seed = sweep_trial_seed(w->seed, trial)};
	opt.until_ns = w->until_ns > 0 ? w->until_ns : SCENARIO_UNSET;
	struct run_result res;
	if (runner_run(w->scenarios[point], &opt, &res, d) != 0)
		return SWEEP_RUN_WORLD;
	int rc = 0;
	if (res.n_pairs != w->n_pairs) {
		diag_add(d, DIAG_ERROR, NULL, "natsim sweep: a run had %zu pairs, not %zu",
			 res.n_pairs, w->n_pairs);
		rc = SWEEP_RUN_INTERNAL;
	}
	for (size_t i = 0; rc == 0 && i < w->n_pairs; i++) {
		const struct run_pair *p = &res.pairs[i];
		memset(&out[i], 0, sizeof(out[i])); /* padding too: it goes down a pipe */
		out[i].outcome = outcome_of(p->path);
		out[i].connect_ns = connect_time(p);
	}
	run_result_free(&res);
	return rc;
}

static int run_here(const struct sweep_work *w, struct diag *d)
{
	uint64_t total = w->n_points * w->trials;
	for (uint64_t u = 0; u < total; u++) {
		int rc = run_unit(w, u, &w->results[u * w->n_pairs], d);
		if (rc != 0)
			return rc;
		if (w->progress)
			w->progress(u + 1, total, w->progress_ctx);
	}
	return 0;
}

static bool write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* 1 read, 0 end of file before anything, -1 an error or a cut record. */
static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 && got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

/* A worker: trials first, first + jobs, ...; one record each down fd.
 * Never returns. */
static void worker(const struct sweep_work *w, unsigned first, unsigned jobs, int fd)
{
	uint64_t total = w->n_points * w->trials;
	size_t body = w->n_pairs * sizeof(struct sweep_trial);
	char *rec = calloc(1, sizeof(struct record_head) + body);
	struct diag *d = diag_new();
	if (rec == NULL || d == NULL)
		_exit(3);
	for (uint64_t u = first; u < total; u += jobs) {
		struct record_head head = {u, 0};
		head.status = run_unit(w, u, (struct sweep_trial *)(rec + sizeof(head)), d);
		memcpy(rec, &head, sizeof(head));
		if (!write_full(fd, rec, sizeof(head) + (head.status ? 0 : body)))
			_exit(3);
		if (head.status != 0)
			_exit(1);
	}
	_exit(0);
}

#define SWEEP_MAX_JOBS 64

struct workers {
	unsigned n;
	pid_t pid[SWEEP_MAX_JOBS];
	int fd[SWEEP_MAX_JOBS]; /* read ends; -1 once at end of file */
};

/* Stop (a failure elsewhere) or wait for every worker; true if all exited 0. */
static bool reap_workers(struct workers *ws, bool stop, struct diag *d)
{
	bool ok = true;
	for (unsigned i = 0; i < ws->n; i++) {
		int status;
		if (stop)
			kill(ws->pid[i], SIGTERM);
		if (ws->fd[i] >= 0)
			close(ws->fd[i]);
		while (waitpid(ws->pid[i], &status, 0) < 0 && errno == EINTR)
			;
		if (stop || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
			continue;
		ok = false;
		if (WIFSIGNALED(status))
			diag_add(d, DIAG_ERROR, NULL,
				 "natsim sweep: worker %u was killed by signal %d", i + 1,
				 WTERMSIG(status));
		else
			diag_add(d, DIAG_ERROR, NULL,
				 "natsim sweep: worker %u exited with status %d", i + 1,
				 WEXITSTATUS(status));
	}
	ws->n = 0;
	return ok;
}

static int start_workers(const struct sweep_work *w, unsigned jobs, struct workers *ws,
			 struct diag *d)
{
	fflush(NULL); /* nothing buffered here is written twice by a child */
	for (unsigned i = 0; i < jobs; i++) {
		int p[2];
		pid_t pid = -1;
		if (pipe(p) == 0 && (pid = fork()) < 0) {
			close(p[0]);
			close(p[1]);
		}
		if (pid < 0) {
			diag_add(d, DIAG_ERROR, NULL, "natsim sweep: cannot start a worker: %s",
				 strerror(errno));
			reap_workers(ws, true, d);
			return SWEEP_RUN_INTERNAL;
		}
		if (pid == 0) {
			close(p[0]);
			for (unsigned j = 0; j < i; j++)
				close(ws->fd[j]);
			worker(w, i, jobs, p[1]);
		}
		close(p[1]);
		ws->pid[i] = pid;
		ws->fd[i] = p[0];
		ws->n++;
	}
	return 0;
}

/* One record from worker i into the results. Returns 1 (a trial), 0 (its
 * end of file), or an enum sweep_run_error (*unit: the trial that failed). */
static int take_record(const struct sweep_work *w, struct workers *ws, unsigned i, uint64_t *unit,
		       struct diag *d)
{
	struct record_head h;
	int r = read_full(ws->fd[i], &h, sizeof(h));
	if (r == 0) {
		close(ws->fd[i]);
		ws->fd[i] = -1;
		return 0;
	}
	if (r == 1 && h.unit < w->n_points * w->trials && h.status != 0) {
		*unit = h.unit;
		if (h.status == SWEEP_RUN_WORLD)
			return SWEEP_RUN_WORLD;
		diag_add(d, DIAG_ERROR, NULL, "natsim sweep: trial %llu failed in worker %u",
			 (unsigned long long)h.unit, i + 1);
		return SWEEP_RUN_INTERNAL;
	}
	if (r == 1 && h.unit < w->n_points * w->trials &&
	    read_full(ws->fd[i], &w->results[h.unit * w->n_pairs],
		      w->n_pairs * sizeof(struct sweep_trial)) == 1)
		return 1;
	diag_add(d, DIAG_ERROR, NULL, "natsim sweep: worker %u sent a broken record", i + 1);
	return SWEEP_RUN_INTERNAL;
}

/* Read every worker's records as they come. Returns 0 or an error. */
static int collect(const struct sweep_work *w, struct workers *ws, uint64_t *unit, struct diag *d)
{
	struct pollfd pfd[SWEEP_MAX_JOBS];
	uint64_t done = 0, total = w->n_points * w->trials;
	for (unsigned open = ws->n; open > 0;) {
		for (unsigned i = 0; i < ws->n; i++)
			pfd[i] = (struct pollfd){.fd = ws->fd[i], .events = POLLIN};
		if (poll(pfd, ws->n, -1) < 0 && errno != EINTR) {
			diag_add(d, DIAG_ERROR, NULL, "natsim sweep: poll: %s", strerror(errno));
			return SWEEP_RUN_INTERNAL;
		}
		for (unsigned i = 0; i < ws->n; i++) {
			if (ws->fd[i] < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int rc = take_record(w, ws, i, unit, d);
			if (rc < 0)
				return rc;
			open -= rc == 0;
			done += rc == 1;
			if (rc == 1 && w->progress)
				w->progress(done, total, w->progress_ctx);
		}
	}
	if (done == total)
		return 0;
	diag_add(d, DIAG_ERROR, NULL, "natsim sweep: %llu of %llu trials never came back",
		 (unsigned long long)(total - done), (unsigned long long)total);
	return SWEEP_RUN_INTERNAL;
}

int sweep_run(const struct sweep_work *w, unsigned jobs, struct diag *d)
{
	uint64_t total = w->n_points * w->trials;
	if (jobs > SWEEP_MAX_JOBS)
		jobs = SWEEP_MAX_JOBS;
	if (jobs > total)
		jobs = (unsigned)total;
	if (jobs <= 1)
		return run_here(w, d);
	struct workers ws = {0};
	uint64_t unit = 0;
	int rc = start_workers(w, jobs, &ws, d);
	if (rc == 0)
		rc = collect(w, &ws, &unit, d);
	if (!reap_workers(&ws, rc != 0, d) && rc == 0)
		rc = SWEEP_RUN_INTERNAL;
	/* A world a worker could not build: build it here for the words. */
	if (rc == SWEEP_RUN_WORLD) {
		struct sweep_trial *scratch = calloc(w->n_pairs + 1, sizeof(*scratch));
		if (scratch == NULL || run_unit(w, unit, scratch, d) == 0)
			diag_add(d, DIAG_ERROR, NULL,
				 "natsim sweep: trial %llu failed in a worker and not here",
				 (unsigned long long)unit);
		free(scratch);
	}
	return rc;
}
