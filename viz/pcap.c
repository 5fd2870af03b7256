/*
 * pcap.c - per-interface captures of a run, through libpcap.
 *
 * One pcap_dumper per (node, interface), opened the first time a hop there
 * is seen; every dumper shares one "dead" pcap_t that only describes the
 * link type and snapshot length.
 */
#include "viz/pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/engine.h"

/* A run's captures are LINKTYPE_IPV4 (228: raw IPv4, no link header) while
 * every packet in it is IPv4, and LINKTYPE_RAW (101, written for DLT_RAW:
 * raw IP, the family read from each packet's version nibble) once any packet
 * is IPv6 (docs/ipv6.md step 1). IPv4-only runs thus keep the captures they
 * always had, byte for byte, and tshark reads both link types (Wireshark's
 * "raw IP" dissector picks IPv4 or IPv6 by the first nibble). One link
 * type per run, as one dead pcap_t describes every file. */
#ifdef DLT_IPV4
#define CAPTURE_LINKTYPE_V4 DLT_IPV4
#else
#define CAPTURE_LINKTYPE_V4 DLT_RAW
#endif
#define CAPTURE_SNAPLEN 65535

struct capture_file {
	const char *node, *iface; /* borrowed from the log */
	pcap_dumper_t *dumper;
};

struct capture {
	pcap_t *dead;
	struct capture_file *files;
	size_t n, cap;
	char *path; /* scratch for file names */
	size_t path_size;
	const char *dir;
	char *err;
	size_t err_size;
};

/* mkdir -p. */
static int make_dirs(const char *dir, char *err, size_t err_size)
{
	char *p = strdup(dir);
	int rc = 0;
	if (p == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (char *s = p + 1; rc == 0; s++) {
		bool end = *s == '\0';
		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			snprintf(err, err_size, "cannot create folder %s: %s", p, strerror(errno));
			rc = -1;
		}
		if (end)
			break;
		*s = '/';
	}
	struct stat st;
	if (rc == 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		snprintf(err, err_size, "%s is not a folder", dir);
		rc = -1;
	}
	free(p);
	return rc;
}

static void safe_name(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (; *in != '\0' && o + 1 < size; in++) {
		char c = *in;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		out[o++] = ok ? c : '_';
	}
	out[o] = '\0';
}

static pcap_dumper_t *dumper_for(struct capture *c, const char *node, const char *iface)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->files[i].node, node) == 0 && strcmp(c->files[i].iface, iface) == 0)
			return c->files[i].dumper;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct capture_file *f = realloc(c->files, nc * sizeof(*f));
		if (f == NULL) {
			snprintf(c->err, c->err_size, "out of memory");
			return NULL;
		}
		c->files = f;
		c->cap = nc;
	}
	char a[128], b[128];
	safe_name(node, a, sizeof(a));
	safe_name(iface, b, sizeof(b));
	snprintf(c->path, c->path_size, "%s/%s-%s.pcap", c->dir, a, b);
	pcap_dumper_t *d = pcap_dump_open(c->dead, c->path);
	if (d == NULL) {
		snprintf(c->err, c->err_size, "cannot write %s: %s", c->path, pcap_geterr(c->dead));
		return NULL;
	}
	c->files[c->n++] = (struct capture_file){node, iface, d};
	return d;
}

static int dump_hop(struct capture *c, int64_t time, const struct trace_packet *p)
{
	pcap_dumper_t *d = dumper_for(c, p->node, p->iface);
	if (d == NULL)
		return -1;
	struct pcap_pkthdr h;
	int64_t t = time < 0 ? 0 : time;
	/* With nanosecond precision, tv_usec carries nanoseconds. */
	h.ts.tv_sec = (time_t)(t / SIM_S(1));
	h.ts.tv_usec = (suseconds_t)(t % SIM_S(1));
	h.caplen = (bpf_u_int32)(p->len < CAPTURE_SNAPLEN ? p->len : CAPTURE_SNAPLEN);
	h.len = (bpf_u_int32)p->len;
	pcap_dump((u_char *)d, &h, p->bytes);
	return 0;
}

static int close_all(struct capture *c, int rc)
{
	for (size_t i = 0; i < c->n; i++) {
		if (pcap_dump_flush(c->files[i].dumper) != 0 && rc == 0) {
			snprintf(c->err, c->err_size, "writing the capture of %s %s failed",
				 c->files[i].node, c->files[i].iface);
			rc = -1;
		}
		pcap_dump_close(c->files[i].dumper);
	}
	return rc;
}

static bool captured(const struct trace_record *r)
{
	const struct trace_packet *p = &r->u.packet;

	return r->kind == TRACE_PACKET && (p->hop == TRACE_HOP_TX || p->hop == TRACE_HOP_RX) &&
	       p->iface != NULL && p->bytes != NULL && p->len > 0;
}

/* LINKTYPE_IPV4 unless a captured packet is not IPv4 (the top). */
static int linktype_of(const struct trace_log *log)
{
	size_t n = trace_log_count(log);

	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);

		if (captured(r) && (r->u.packet.bytes[0] >> 4) != 4)
			return DLT_RAW;
	}
	return CAPTURE_LINKTYPE_V4;
}

int capture_write_dir(const struct trace_log *log, const char *dir, struct capture_stats *st,
		      char *err, size_t err_size)
{
	struct capture c = {.dir = dir, .err = err, .err_size = err_size};
	struct capture_stats dummy;
	int rc = -1;
	st = st != NULL ? st : &dummy;
	memset(st, 0, sizeof(*st));
	if (make_dirs(dir, err, err_size) != 0)
		return -1;
	c.path_size = strlen(dir) + 300;
	c.path = malloc(c.path_size);
	c.dead = pcap_open_dead_with_tstamp_precision(linktype_of(log), CAPTURE_SNAPLEN,
						      PCAP_TSTAMP_PRECISION_NANO);
	if (c.path == NULL || c.dead == NULL) {
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	rc = 0;
	size_t n = trace_log_count(log);
	/* Every interface gets its capture, even one that saw nothing. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		const struct trace_link *k = &r->u.link;
		if (r->kind != TRACE_LINK || k->event != TRACE_LINK_ADDED)
			continue;
		if ((k->a_iface != NULL && dumper_for(&c, k->a, k->a_iface) == NULL) ||
		    (k->b_iface != NULL && dumper_for(&c, k->b, k->b_iface) == NULL))
			rc = -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (!captured(r))
			continue;
		rc = dump_hop(&c, r->time, &r->u.packet);
		st->packets += rc == 0;
	}
	rc = close_all(&c, rc);
	st->files = c.n;
out:
	if (c.dead != NULL)
		pcap_close(c.dead);
	free(c.files);
	free(c.path);
	return rc;
}
