/*
 * bench/tui.c - the TUI's cost per frame: the fold to the cursor and one
 * full redraw.
 *
 *	bench_tui [records] [flows]      (default 10000 records, 1000 flows)
 *
 * A hand-made trace: the default scenario's topology records, `flows`
 * conntrack entries and as many NAT mappings on home, then packet hops up to
 * `records` in all. Measured, each the best and the mean of RUNS:
 *   fold   stepping back from the last record: the model re-folds every
 *          record from the start (the worst case; stepping forward applies
 *          one record);
 *   redraw every pane drawn into a 120x40 virtual screen (newterm on
 *          /dev/null) with home selected, so the tables pane has `flows`
 *          mappings and conntrack entries to show (it formats the ones that
 *          fit on screen), plus the ladder and the inspector.
 * Target: fold + redraw under 16 ms (one frame at 60 Hz).
 * Build with -O2 (CMAKE_BUILD_TYPE=Release) to compare with the target.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli/cli.h"
#include "app/tui/tui.h"
#include "app/tui/tui_model.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace_log.h"

#define RUNS 20
#define TARGET_MS 16.0

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void emit_at(struct trace *t, int64_t *clock, int64_t at, struct trace_record *r)
{
	*clock = at;
	trace_emit(t, r);
}

/* The topology of the default scenario, as the world announces it. */
static void copy_topology(const struct trace_log *from, struct trace *t, int64_t *clock)
{
	for (size_t i = 0; i < trace_log_count(from); i++) {
		struct trace_record r = *trace_log_get(from, i);
		if (r.kind == TRACE_NODE || r.kind == TRACE_LINK)
			emit_at(t, clock, 0, &r);
	}
}

static void emit_flow(struct trace *t, int64_t *clock, uint32_t id)
{
	struct trace_record r = {.kind = TRACE_CONNTRACK};
	uint32_t lan = IP4(192, 168, (id >> 8) & 0xff, id & 0xff);
	r.u.ct = (struct trace_conntrack){
	    .event = TRACE_CT_NEW,
	    .node = "home",
	    .id = id,
	    .proto = 17,
	    .orig = {lan, IP4(192, 0, 2, 10), (uint16_t)(5000 + id), 3478},
	    .reply = {IP4(192, 0, 2, 10), IP4(203, 0, 113, 7), 3478, (uint16_t)(5000 + id)},
	    .expires_at = SIM_S(3600),
	    .use = 1};
	emit_at(t, clock, SIM_MS(id), &r);
	struct trace_record m = {.kind = TRACE_MAPPING};
	m.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "home",
					 .id = id,
					 .proto = 17,
					 .internal = {lan, (uint16_t)(5000 + id)},
					 .external = {IP4(203, 0, 113, 7), (uint16_t)(5000 + id)},
					 .remote = {IP4(192, 0, 2, 10), 3478},
					 .mapping = 0,
					 .filtering = 2,
					 .expires_at = SIM_S(3600)};
	emit_at(t, clock, SIM_MS(id), &m);
}

static void emit_hop(struct trace *t, int64_t *clock, uint64_t id, int64_t at)
{
	static const char *const nodes[] = {"alice", "home", "internet", "coord"};
	static const char *const ifaces[] = {"eth0", "wan", "if0", "eth0"};
	uint8_t buf[64];
	struct endpoint src = {IP4(192, 168, 1, 5), 5000}, dst = {IP4(192, 0, 2, 10), 3478};
	size_t len = packet_build_udp(buf, sizeof(buf), &src, &dst, 64, (uint16_t)id, "ping", 4);
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){.hop = id % 2 ? TRACE_HOP_RX : TRACE_HOP_TX,
					   .packet_id = id / 4,
					   .node = nodes[id % 4],
					   .iface = ifaces[id % 4],
					   .bytes = buf,
					   .len = len};
	emit_at(t, clock, at, &r);
}

static struct trace_log *make_log(const struct trace_log *topo, size_t records, size_t flows)
{
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	if (!log)
		return NULL;
	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	copy_topology(topo, &t, &clock);
	for (uint32_t i = 1; i <= flows; i++)
		emit_flow(&t, &clock, i);
	int64_t at = clock;
	for (uint64_t id = 0; trace_log_count(log) < records; id++)
		emit_hop(&t, &clock, id, at += SIM_US(100));
	return log;
}

struct stat {
	double best, sum;
};

static void stat_add(struct stat *s, double ms)
{
	s->best = s->sum == 0 || ms < s->best ? ms : s->best;
	s->sum += ms;
}

static SCREEN *virtual_screen(void)
{
	setenv("LINES", "40", 1);
	setenv("COLUMNS", "120", 1);
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr = out && in ? newterm("xterm", out, in) : NULL;
	if (scr)
		set_term(scr);
	return scr;
}

static int measure(struct tui_model *m, size_t flows)
{
	SCREEN *scr = virtual_screen();
	struct tui_config cfg = {.ascii = !cli_use_utf8(), .color = true};
	struct tui *t = scr ? tui_new(m, &cfg) : NULL;
	if (!t) {
		fprintf(stderr, "bench_tui: no virtual screen (newterm failed)\n");
		return 1;
	}
	tui_screen_setup(t);
	tui_model_select(m, tui_model_find_node(m, "home"));
	struct stat fold = {0}, draw = {0};
	size_t last = tui_model_count(m) - 1;
	for (int i = 0; i < RUNS; i++) {
		tui_model_seek(m, last);
		double t0 = now_ms();
		tui_model_back(m); /* re-folds last records from the start */
		double t1 = now_ms();
		tui_draw(t);
		double t2 = now_ms();
		stat_add(&fold, t1 - t0);
		stat_add(&draw, t2 - t1);
	}
	size_t shown = tui_model_flow_count(m, "home");
	tui_free(t);
	endwin();
	delscreen(scr);
	printf("fold   %zu records (%zu live flows on home): best %.2f ms, mean %.2f ms\n",
	       tui_model_count(m), shown, fold.best, fold.sum / RUNS);
	printf("redraw 120x40, tables of %zu flows and mappings: best %.2f ms, mean %.2f ms\n",
	       flows, draw.best, draw.sum / RUNS);
	double frame = fold.sum / RUNS + draw.sum / RUNS;
	printf("frame  fold + redraw: mean %.2f ms (target < %.0f ms): %s\n", frame, TARGET_MS,
	       frame < TARGET_MS ? "ok" : "OVER");
	return 0;
}

int main(int argc, char **argv)
{
	size_t records = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	size_t flows = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
	struct diag *d = diag_new();
	struct scenario *s = cli_load_scenario(NULL, d);
	struct tui_model *m = s ? tui_model_new(s, NULL) : NULL;
	if (!m || tui_model_run(m, d) != 0) {
		fprintf(stderr, "bench_tui: cannot run the default scenario\n");
		return 1;
	}
	struct trace_log *log = make_log(tui_model_log(m), records, flows);
	double t0 = now_ms();
	if (!log || tui_model_adopt_log(m, log) != 0) {
		fprintf(stderr, "bench_tui: out of memory\n");
		return 1;
	}
	printf(
	    "load   %zu records into the model (timeline text, topology): %.2f ms, once per run\n",
	    tui_model_count(m), now_ms() - t0);
	int rc = measure(m, flows);
	tui_model_free(m);
	scenario_free(s);
	diag_free(d);
	return rc;
}
