/*
 * test_daemon.c - the real-socket driver on 127.0.0.1: `natsim coord` and
 * `natsim peer` run as forked children (cmd_*_main, the code the binary runs)
 * and talk over real UDP; then a flood of random and malformed datagrams at a
 * running coordinator, which must keep serving, stay small, refuse forged and
 * replayed registrations and never answer with more bytes than it was sent.
 * Every wait is bounded; nothing leaves the loopback interface.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/cli/cli.h"
#include "app/net/daemon.h"
#include "app/net/keyfile.h"
#include "p2p/coord.h"
#include "p2p/stun.h"
#include "p2p/stunsrv.h"

#define LOOPBACK 0x7F000001u
#define FLOOD_COUNT 100000
#define FLOOD_SEED 0x5eed1234abcdull
#define FLOOD_US_EACH 40 /* 100 000 datagrams in about 4 s */
#define FLOOD_BATCH 32	 /* datagrams sent between looks at the answers */
#define FLOOD_WINDOW 64	 /* at most about this many unread by the coordinator */
/* How much the coordinator may grow during the flood. AddressSanitizer keeps
 * freed memory in quarantine (256 MB by default), so it gets more room. */
#ifdef __SANITIZE_ADDRESS__
#define FLOOD_RSS_GROWTH_KB (300 * 1024)
#else
#define FLOOD_RSS_GROWTH_KB (16 * 1024)
#endif

struct child {
	pid_t pid;
	char out[128];
};

static char workdir[64];

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* A port that was free a moment ago (good enough on a quiet loopback). */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* Runs `natsim CMD ARGS...` in a child, its output in a file. */
static struct child spawn(const char *tag, int (*main_fn)(int, char **), char **argv)
{
	struct child c;
	int argc = 0;
	while (argv[argc])
		argc++;
	snprintf(c.out, sizeof(c.out), "%s/%s.log", workdir, tag);
	/* Truncated here, not in the child: a wait_for_text right after spawn
	 * must not read the previous test's log of the same name. */
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

static bool file_contains(const char *path, const char *text)
{
	static char buf[1 << 22];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static bool wait_for_text(const struct child *c, const char *text, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	while (now_ms() < end) {
		if (file_contains(c->out, text))
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Exit status, or -1 if it had to be killed after timeout_ms. */
static int wait_exit(struct child *c, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int st;
	while (now_ms() < end) {
		pid_t p = waitpid(c->pid, &st, WNOHANG);
		if (p == c->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		sleep_ms(10);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	return -1;
}

static void dump(const struct child *c)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sed 's/^/  %d| /' '%s' >&2", (int)c->pid, c->out);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot show %s\n", c->out);
}

static struct child start_coord(uint16_t port, const char *max_peers)
{
	char listen[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	char *argv[] = {"coord",       "--listen",	  listen, "--json",
			"--max-peers", (char *)max_peers, NULL};
	struct child c = spawn("coord", cmd_coord_main, argv);
	if (!wait_for_text(&c, "\"listening\"", 3000)) {
		dump(&c);
		fail_msg("the coordinator did not start listening within 3 s");
	}
	return c;
}

/* The coordinator's "received" counter from its final line. */
static long coord_received(const struct child *c)
{
	char line[1024];
	long n = -1;
	FILE *f = fopen(c->out, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "\"received\":");
		if (strstr(line, "\"stopped\"") && p)
			n = strtol(p + strlen("\"received\":"), NULL, 10);
	}
	fclose(f);
	return n;
}

static void stop_coord(struct child *c)
{
	kill(c->pid, SIGTERM);
	int rc = wait_exit(c, 3000);
	if (rc != 0)
		dump(c);
	assert_int_equal(rc, 0); /* SIGTERM: clean exit */
	assert_true(file_contains(c->out, "\"event\":\"stopped\""));
}

/* bob echoes, alice connects and sends: both must exit 0 and alice must get
 * her text back. */
static void exchange(uint16_t coord_port, const char *text)
{
	char coord[32];
	snprintf(coord, sizeof(coord), "127.0.0.1:%u", coord_port);
	char *bob_argv[] = {"peer",	 "--name", "bob",	    "--coord",	coord, "--bind",
			    "127.0.0.1", "--echo", "--expect-data", "--linger", "1s",  "--timeout",
			    "8s",	 NULL};
	struct child bob = spawn("bob", cmd_peer_main, bob_argv);
	if (!wait_for_text(&bob, "registered:", 3000)) {
		dump(&bob);
		fail_msg("bob did not register within 3 s");
	}
	char *alice_argv[] = {"peer",	    "--name",	     "alice",	  "--coord", coord,
			      "--bind",	    "127.0.0.1",     "--connect", "bob",     "--send",
			      (char *)text, "--expect-data", "--timeout", "8s",	     NULL};
	struct child alice = spawn("alice", cmd_peer_main, alice_argv);
	int arc = wait_exit(&alice, 10000), brc = wait_exit(&bob, 10000);
	char want[256];
	snprintf(want, sizeof(want), "data from bob: %s\n", text);
	if (arc != 0 || brc != 0 || !file_contains(alice.out, want) ||
	    !file_contains(alice.out, "path: direct")) {
		dump(&alice);
		dump(&bob);
		fail_msg("exchange failed: alice exit %d, bob exit %d", arc, brc);
	}
}

static void test_loopback_exchange(void **state)
{
	(void)state;
	uint16_t port = free_port();
	struct child coord = start_coord(port, "1000");
	uint64_t t0 = now_ms();
	exchange(port, "hello over real UDP");
	assert_true(now_ms() - t0 < 10000);
	assert_true(file_contains(coord.out, "\"event\":\"introduced\""));
	stop_coord(&coord);
}

/* Host candidates never include loopback (RFC 8445 5.1.1.1; issue 12 item
 * 13), even with the coordinator on 127.0.0.1: the registration carries
 * exactly this machine's other addresses, and two unbound peers still meet
 * through the server-reflexive address the coordinator sees. */
static void test_no_loopback_host_candidates(void **state)
{
	(void)state;
	uint32_t ips[COORD_MAX_CANDIDATES];
	int n = daemon_local_addresses(ips, COORD_MAX_CANDIDATES, false), want = 0;
	for (int i = 0; i < n; i++)
		want += (ips[i] >> 24) != 127;
	uint16_t port = free_port();
	struct child coord = start_coord(port, "10");
	char where[32], text[64];
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	char *bob_argv[] = {"peer",	     "--name",	 "bob", "--coord",   where, "--echo",
			    "--expect-data", "--linger", "1s",	"--timeout", "8s",  NULL};
	struct child bob = spawn("bob", cmd_peer_main, bob_argv);
	snprintf(text, sizeof(text), "with %d host candidate%s", want, want == 1 ? "" : "s");
	if (!wait_for_text(&coord, text, 3000)) {
		dump(&coord);
		fail_msg("bob's registration does not carry exactly %d host candidates", want);
	}
	char *alice_argv[] = {"peer",	   "--name", "alice",  "--coord",	where,
			      "--connect", "bob",    "--send", "over loopback", "--expect-data",
			      "--timeout", "8s",     NULL};
	struct child alice = spawn("alice", cmd_peer_main, alice_argv);
	int arc = wait_exit(&alice, 10000), brc = wait_exit(&bob, 10000);
	if (arc != 0 || brc != 0 || !file_contains(alice.out, "data from bob: over loopback")) {
		dump(&alice);
		dump(&bob);
		fail_msg("unbound peers did not meet: alice exit %d, bob exit %d", arc, brc);
	}
	stop_coord(&coord);
}

/* ---- the flood ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int udp_socket(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void send_to(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK), .sin_port = htons(port)};
	while (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		if (errno != EAGAIN && errno != ENOBUFS)
			fail_msg("sendto: %s", strerror(errno));
		sleep_ms(1);
	}
}

static size_t build_register(const char *name, const struct crypto_identity *claimed,
			     const struct crypto_identity *signer, uint64_t ts, uint8_t *buf,
			     size_t cap)
{
	struct coord_registration r = {.timestamp_ns = ts, .n_candidates = 1};
	uint8_t bytes[COORD_REG_BYTES_MAX], sig[64], txid[12];
	struct stun_writer w;
	for (size_t i = 0; i < sizeof(txid); i++)
		txid[i] = (uint8_t)rnd();
	snprintf(r.name, sizeof(r.name), "%s", name);
	memcpy(r.sign_pk, claimed->sign_pk, 32);
	memcpy(r.box_pk, claimed->box_pk, 32);
	r.candidates[0] = (struct coord_candidate){{.ip = LOOPBACK, .port = 5000}, COORD_CAND_HOST};
	crypto_identity_sign(signer, bytes, coord_registration_bytes(&r, bytes), sig);
	stun_writer_init(&w, buf, cap, STUN_METHOD_REGISTER, STUN_CLASS_REQUEST, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, name);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGN_KEY, r.sign_pk, 32);
	stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, r.box_pk, 32);
	coord_put_candidate(&w, &r.candidates[0]);
	stun_put_u64(&w, STUN_ATTR_NATSIM_TIMESTAMP, ts);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGNATURE, sig, 64);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	return (size_t)n;
}

/* A STUN-looking header with a random (natsim or standard) method and class,
 * then random TLVs: what gets past stun_is_message to the parsers. */
static size_t stunlike(uint8_t *buf, size_t len)
{
	static const uint16_t methods[] = {STUN_METHOD_BINDING,
					   STUN_METHOD_REGISTER,
					   STUN_METHOD_CONNECT,
					   STUN_METHOD_INTRODUCE,
					   STUN_METHOD_RELAY,
					   STUN_METHOD_DATA,
					   0x123};
	uint16_t m = methods[rnd() % 7], cls = (uint16_t)(rnd() % 4);
	uint16_t type = (uint16_t)((m & 0xF) | ((m & 0x70) << 1) | ((m & 0xF80) << 2) |
				   ((cls & 1) << 4) | ((cls & 2) << 7));
	len = 20 + (len & ~(size_t)3);
	if (len > P2P_MAX_DATAGRAM)
		len = P2P_MAX_DATAGRAM & ~(size_t)3;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rnd();
	buf[0] = (uint8_t)(type >> 8);
	buf[1] = (uint8_t)type;
	uint16_t body = (uint16_t)((rnd() % 4) ? len - 20 : rnd() % 2000);
	buf[2] = (uint8_t)(body >> 8);
	buf[3] = (uint8_t)body;
	memcpy(buf + 4, "\x21\x12\xa4\x42", 4);
	for (size_t off = 20; off + 4 <= len; off += 4 + ((size_t)buf[off + 3] & ~(size_t)3)) {
		static const uint16_t attrs[] = {STUN_ATTR_NATSIM_NAME,
						 STUN_ATTR_NATSIM_SIGN_KEY,
						 STUN_ATTR_NATSIM_BOX_KEY,
						 STUN_ATTR_NATSIM_CANDIDATE,
						 STUN_ATTR_NATSIM_TIMESTAMP,
						 STUN_ATTR_NATSIM_SIGNATURE,
						 STUN_ATTR_NATSIM_PAYLOAD,
						 STUN_ATTR_NATSIM_PEER,
						 STUN_ATTR_NATSIM_SESSION,
						 0x0003,
						 0x0019,
						 0x8028};
		uint16_t at = attrs[rnd() % 12];
		buf[off] = (uint8_t)(at >> 8);
		buf[off + 1] = (uint8_t)at;
		buf[off + 2] = 0;
		buf[off + 3] = (uint8_t)(rnd() % 72);
	}
	return len;
}

/* Datagram i of the flood. Its bytes 8..11 (the STUN transaction id) hold i,
 * so an answer can be matched with the request it answers. */
static size_t flood_datagram(uint32_t i, const uint8_t *reg, size_t reg_len, uint8_t *buf)
{
	size_t len = (size_t)(rnd() % (P2P_MAX_DATAGRAM + 1));
	switch (i % 5) {
	case 0: /* random bytes */
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rnd();
		break;
	case 1:
	case 2:
		len = stunlike(buf, len);
		break;
	case 3: /* a valid REGISTER with bytes flipped */
		memcpy(buf, reg, reg_len);
		len = reg_len;
		for (int k = 0; k < 4; k++)
			buf[20 + rnd() % (reg_len - 20)] ^= (uint8_t)(1u << (rnd() % 8));
		break;
	default: /* a valid REGISTER cut short */
		memcpy(buf, reg, reg_len);
		len = 20 + rnd() % (reg_len - 20);
		break;
	}
	if (len >= 12) {
		buf[8] = (uint8_t)(i >> 24);
		buf[9] = (uint8_t)(i >> 16);
		buf[10] = (uint8_t)(i >> 8);
		buf[11] = (uint8_t)i;
	}
	return len;
}

/* Reads answers. A Binding answer may be up to STUNSRV_MAX_RATIO times its
 * request, anything else no larger than its request; *bindings counts the
 * Binding answers (all to one source address: the rate limit caps them);
 * *highest is the id of the latest request answered (answers come in order,
 * so the coordinator has read at least that far). */
static size_t drain_answers(int fd, const uint16_t *sizes, uint32_t sent, unsigned wait_ms,
			    size_t *bindings, uint32_t *highest)
{
	uint8_t buf[65536];
	size_t n_answers = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, (int)wait_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			break;
		assert_true(n >= 12);
		uint32_t i = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
			     (uint32_t)buf[10] << 8 | buf[11];
		if (i >= sent)
			fail_msg("an answer (%zd bytes) to no request of ours (id %u)", n, i);
		/* RFC 8489 5: the method is the type without its two class bits. */
		bool binding = (((unsigned)buf[0] << 8 | buf[1]) & 0x3EEFu) == STUN_METHOD_BINDING;
		size_t allowed = binding ? STUNSRV_MAX_RATIO * (size_t)sizes[i] : sizes[i];
		if ((size_t)n > allowed)
			fail_msg("amplification: %zd-byte answer to the %u-byte request %u", n,
				 sizes[i], i);
		*bindings += binding;
		if (i > *highest)
			*highest = i;
		n_answers++;
		wait_ms = 0;
	}
	return n_answers;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void register_checks(uint16_t port)
{
	struct crypto_identity owner, thief;
	uint8_t seed[32], buf[512];
	memset(seed, 0x11, sizeof(seed));
	crypto_identity_from_seed(&owner, seed);
	memset(seed, 0x22, sizeof(seed));
	crypto_identity_from_seed(&thief, seed);
	uint64_t ts = (uint64_t)time(NULL) * 1000000000ull;
	int fd = udp_socket(), other = udp_socket();

	size_t n = build_register("owner", &owner, &owner, ts, buf, sizeof(buf));
	send_to(fd, port, buf, n); /* genuine */
	sleep_ms(100);
	send_to(fd, port, buf, n);    /* the same bytes again: a replay */
	send_to(other, port, buf, n); /* replayed from elsewhere */
	n = build_register("owner", &owner, &thief, ts + 1, buf, sizeof(buf));
	send_to(other, port, buf, n); /* owner's keys, thief's signature */
	n = build_register("owner", &thief, &thief, ts + 2, buf, sizeof(buf));
	send_to(other, port, buf, n); /* a live name, another key */
	sleep_ms(200);
	close(fd);
	close(other);
}

/* Sends buf and waits (at most 2 s) for the answer with the same transaction id. */
static ssize_t ask(int fd, uint16_t port, const uint8_t *req, size_t len, uint8_t *ans, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t end = now_ms() + 2000;
	send_to(fd, port, req, len);
	while (now_ms() < end && poll(&p, 1, 100) >= 0) {
		ssize_t n = recv(fd, ans, cap, 0);
		if (n >= 20 && memcmp(ans + 8, req + 8, 12) == 0)
			return n;
	}
	return -1;
}

/* What stock clients send, answered with default flags (issue 12 items 7, 8):
 * turnutils_stunclient's bare 20-byte request, the 28-byte RFC 3489 request of
 * Debian's `stun`, and turnutils_natdiscovery -P's 1524-byte padded one; a
 * 3000-byte datagram that is not STUN is counted and logged, not lost. */
static void test_stock_requests(void **state)
{
	(void)state;
	uint16_t port = free_port();
	struct child coord = start_coord(port, "10");
	int fd = udp_socket();
	static uint8_t req[3000], ans[65536];
	static const uint8_t txid[12] = {7, 7, 7};
	static const uint8_t txid16[16] = {0x01, 0x02, 0x03, 0x04, 9, 9, 9};
	struct stun_writer w;
	struct stun_msg m;

	stun_writer_init(&w, req, sizeof(req), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, txid);
	ssize_t n = ask(fd, port, req, (size_t)stun_writer_finish(&w), ans, sizeof(ans));
	assert_true(n > 20 && n <= 80);
	assert_int_equal(stun_decode(ans, (size_t)n, false, &m), STUN_OK);
	assert_non_null(stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS));

	stun_writer_init_classic(&w, req, sizeof(req), STUN_METHOD_BINDING, STUN_CLASS_REQUEST,
				 txid16);
	stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, 0);
	n = ask(fd, port, req, (size_t)stun_writer_finish(&w), ans, sizeof(ans));
	assert_true(n > 20 && n <= 4 * 28);
	assert_int_equal(stun_decode(ans, (size_t)n, true, &m), STUN_OK);
	assert_non_null(stun_find(&m, STUN_ATTR_MAPPED_ADDRESS));

	stun_writer_init(&w, req, sizeof(req), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, txid);
	static const uint8_t pad[1500];
	stun_put_raw(&w, STUN_ATTR_PADDING, pad, sizeof(pad)); /* as turnutils_natdiscovery -P */
	int len = stun_writer_finish(&w);
	assert_int_equal(len, 1524);
	n = ask(fd, port, req, (size_t)len, ans, sizeof(ans));
	assert_true(n > 20);
	assert_int_equal(stun_decode(ans, (size_t)n, false, &m), STUN_OK);
	assert_non_null(stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS));

	memset(req, 0xAB, sizeof(req));
	send_to(fd, port, req, sizeof(req));
	if (!wait_for_text(&coord, "a 3000-byte datagram from 127.0.0.1", 2000)) {
		dump(&coord);
		fail_msg("the 3000-byte datagram was not logged");
	}
	close(fd);
	stop_coord(&coord);
	assert_true(file_contains(coord.out, "\"event\":\"dropped\""));
}

/* A peer says what it refuses, whatever the size (issue 12 item 8). */
static void test_peer_logs_refusals(void **state)
{
	(void)state;
	uint16_t cport = free_port(), pport = free_port();
	struct child coord = start_coord(cport, "10");
	char where[32], pp[8];
	snprintf(where, sizeof(where), "127.0.0.1:%u", cport);
	snprintf(pp, sizeof(pp), "%u", pport);
	char *argv[] = {"peer",	  "--name",    "carol",	 "--coord", where,
			"--bind", "127.0.0.1", "--port", pp,	    "--linger",
			"3s",	  "--timeout", "5s",	 NULL};
	struct child carol = spawn("carol", cmd_peer_main, argv);
	if (!wait_for_text(&carol, "registered:", 3000)) {
		dump(&carol);
		fail_msg("carol did not register");
	}
	static uint8_t junk[2000];
	memset(junk, 0xAB, sizeof(junk));
	int fd = udp_socket();
	send_to(fd, pport, junk, sizeof(junk));
	close(fd);
	if (!wait_for_text(&carol, "ignored: a 2000-byte datagram from 127.0.0.1:", 2000)) {
		dump(&carol);
		fail_msg("the peer did not log the datagram it refused");
	}
	wait_exit(&carol, 6000);
	stop_coord(&coord);
}

static void test_flood(void **state)
{
	(void)state;
	uint16_t port = free_port();
	struct child coord = start_coord(port, "1000");
	long rss_before = rss_kb(coord.pid);
	register_checks(port);

	rng_state = FLOOD_SEED;
	struct crypto_identity id;
	uint8_t seed[32] = {0x33}, reg[512], buf[P2P_MAX_DATAGRAM];
	crypto_identity_from_seed(&id, seed);
	size_t reg_len = build_register("flood", &id, &id, 1, reg, sizeof(reg));
	uint16_t *sizes = calloc(FLOOD_COUNT, sizeof(*sizes));
	assert_non_null(sizes);
	int fd = udp_socket();
	uint64_t t0 = now_ms();
	size_t answers = 0, bindings = 0;
	uint32_t highest = 0;
	for (uint32_t i = 0; i < FLOOD_COUNT; i++) {
		size_t len = flood_datagram(i, reg, reg_len, buf);
		sizes[i] = (uint16_t)len;
		send_to(fd, port, buf, len);
		/* Paced at FLOOD_US_EACH so the coordinator keeps up: loopback
		 * drops what overflows its receive buffer, which would test nothing.
		 * On a loaded machine the coordinator gets less CPU than that pace
		 * needs, so the flood also waits (a little, bounded) until the
		 * coordinator has answered something from the last FLOOD_WINDOW. */
		if (i % FLOOD_BATCH == FLOOD_BATCH - 1) {
			answers += drain_answers(fd, sizes, i + 1, 0, &bindings, &highest);
			uint64_t give_up = now_ms() + 200;
			while (highest + FLOOD_WINDOW < i && now_ms() < give_up)
				answers += drain_answers(fd, sizes, i + 1, 5, &bindings, &highest);
			/* One clock reading: read twice, the second could pass `due`
			 * and the difference would wrap to weeks of sleep. */
			uint64_t due = t0 + (uint64_t)i * FLOOD_US_EACH / 1000;
			uint64_t now = now_ms();
			if (now < due)
				sleep_ms((unsigned)(due - now));
		}
	}
	answers += drain_answers(fd, sizes, FLOOD_COUNT, 300, &bindings, &highest);
	uint64_t took = now_ms() - t0;
	close(fd);
	free(sizes);
	long rss_after = rss_kb(coord.pid);
	print_message("flood: %d datagrams in %llu ms, %zu answers (%zu Binding), coordinator "
		      "RSS %ld -> %ld kB\n",
		      FLOOD_COUNT, (unsigned long long)took, answers, bindings, rss_before,
		      rss_after);
	assert_true(took < 60000);
	/* One source address: its Binding answers are held to the rate limit. */
	assert_true(bindings > 0);
	assert_true(bindings <= COORD_BINDING_BURST +
				    (took / 1000 + 1) * (P2P_NS_PER_S / COORD_BINDING_INTERVAL));
	assert_true(rss_after > 0 && rss_after < rss_before + FLOOD_RSS_GROWTH_KB);

	/* Still serving after all that. */
	exchange(port, "still here after the flood");
	assert_true(file_contains(coord.out, "\"refusal\":\"replay\""));
	assert_true(file_contains(coord.out, "\"refusal\":\"bad-signature\""));
	assert_true(file_contains(coord.out, "\"refusal\":\"name-taken\""));
	stop_coord(&coord);
	long received = coord_received(&coord);
	print_message("flood: the coordinator read %ld datagrams\n", received);
	assert_true(received >= FLOOD_COUNT * 9 / 10); /* the flood really reached it */
}

/* --allow: a key on the list registers, any other key is refused (403). */
static void test_allow_list(void **state)
{
	(void)state;
	char key[128], allow[128], err[256], hex[65], listen[32], coord_ep[32];
	uint8_t seed[32];
	struct crypto_identity id;
	snprintf(key, sizeof(key), "%s/alice.key", workdir);
	snprintf(allow, sizeof(allow), "%s/allow", workdir);
	assert_int_equal(keyfile_generate(seed), KEYFILE_OK);
	assert_int_equal(keyfile_save(key, seed, true, err, sizeof(err)), KEYFILE_OK);
	crypto_identity_from_seed(&id, seed);
	keyfile_hex(id.sign_pk, 32, hex);
	FILE *f = fopen(allow, "w");
	assert_non_null(f);
	fprintf(f, "# who may register\nsign-public-key %s\n", hex);
	fclose(f);

	uint16_t port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(coord_ep, sizeof(coord_ep), "127.0.0.1:%u", port);
	char *cargv[] = {"coord", "--listen", listen, "--json", "--allow", allow, NULL};
	struct child coord = spawn("coord-allow", cmd_coord_main, cargv);
	assert_true(wait_for_text(&coord, "\"listening\"", 3000));
	char *aargv[] = {"peer",   "--name", "alice",	  "--key",     key,  "--coord",
			 coord_ep, "--bind", "127.0.0.1", "--timeout", "3s", NULL};
	struct child alice = spawn("alice-allow", cmd_peer_main, aargv);
	assert_int_equal(wait_exit(&alice, 5000), CLI_EXIT_OK);
	char *margv[] = {"peer",   "--name",	"mallory",   "--coord", coord_ep,
			 "--bind", "127.0.0.1", "--timeout", "3s",	NULL};
	struct child mallory = spawn("mallory-allow", cmd_peer_main, margv);
	assert_int_equal(wait_exit(&mallory, 5000), CLI_EXIT_FAILED);
	assert_true(file_contains(mallory.out, "403"));
	/* The coordinator sends the 403 before it logs the refusal: wait for it. */
	assert_true(wait_for_text(&coord, "\"refusal\":\"not-allowed\"", 3000));
	stop_coord(&coord);
}

static void test_usage_errors(void **state)
{
	(void)state;
	char *a1[] = {"coord", NULL};
	struct child c = spawn("usage1", cmd_coord_main, a1);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "--listen"));
	char *a2[] = {"peer", "--name", "x", "--coord", "nowhere", NULL};
	c = spawn("usage2", cmd_peer_main, a2);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "--coord expects ADDR:PORT"));
	char *a3[] = {"peer",  "--name",	 "x", "--coord", "127.0.0.1:9",
		      "--key", "/nonexistent/k", NULL};
	c = spawn("usage3", cmd_peer_main, a3);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "/nonexistent/k"));
	char *a4[] = {"peer",	     "--name",	       "x",	"--coord",
		      "127.0.0.1:9", "--port-mapping", "maybe", NULL};
	c = spawn("usage4", cmd_peer_main, a4);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "--port-mapping expects on or off"));
	char *a5[] = {"peer",  "--name",    "x",	   "--coord", "127.0.0.1:9",
		      "--tcp", "--gateway", "192.168.1.1", NULL};
	c = spawn("usage5", cmd_peer_main, a5);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "not with --tcp"));
}

/* natsim peer --port-mapping on --gateway 127.0.0.1: a router played here
 * on 127.0.0.1:5351 grants the PCP MAP request (RFC 6887 11.1); the peer
 * says so, and at SIGTERM sends the delete (lifetime 0, same nonce) before
 * it exits. Skipped if something else holds 127.0.0.1:5351. */
static bool router_request(int fd, uint8_t req[60], struct sockaddr_in *from)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	socklen_t fl = sizeof(*from);
	if (poll(&pfd, 1, 3000) != 1)
		return false;
	return recvfrom(fd, req, 60, 0, (struct sockaddr *)from, &fl) == 60 && req[0] == 2 &&
	       req[1] == 1;
}

static void test_peer_port_mapping(void **state)
{
	(void)state;
	struct sockaddr_in me = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(LOOPBACK),
				 .sin_port = htons(5351)},
			   from;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint8_t req[60], ans[60], del[60];
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(fd);
		skip();
	}
	uint16_t port = free_port();
	struct child coord = start_coord(port, "10");
	char where[32];
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	char *argv[] = {"peer",	     "--name",	 "alice", "--coord",   where, "--gateway",
			"127.0.0.1", "--linger", "20s",	  "--timeout", "20s", NULL};
	struct child alice = spawn("alice-pcp", cmd_peer_main, argv);
	assert_true(router_request(fd, req, &from));
	memcpy(ans, req, sizeof(ans));
	ans[1] |= 0x80; /* a response: success, 7200 s, epoch 9, 203.0.113.7:5000 */
	ans[8 + 3] = 9;
	memset(ans + 12, 0, 12);
	memcpy(ans + 24 + 18, "\x13\x88", 2);
	memcpy(ans + 24 + 32, "\xcb\x00\x71\x07", 4);
	assert_int_equal(sendto(fd, ans, sizeof(ans), 0, (struct sockaddr *)&from, sizeof(from)),
			 60);
	if (!wait_for_text(&alice, "the router mapped 203.0.113.7:5000 for us for 7200 s by PCP",
			   3000)) {
		dump(&alice);
		fail_msg("the peer did not take the router's grant");
	}
	/* Registered too, so that SIGTERM ends a run that succeeded (exit 0). */
	assert_true(wait_for_text(&alice, "registered:", 3000));
	kill(alice.pid, SIGTERM);
	assert_int_equal(wait_exit(&alice, 5000), 0);
	assert_true(router_request(fd, del, &from));
	assert_memory_equal(del + 4, "\0\0\0\0", 4); /* lifetime 0: delete */
	assert_memory_equal(del + 24, req + 24, 12); /* the nonce that owns it */
	close(fd);
	stop_coord(&coord);
}

/* --techniques and the budgets: a bad name, a budget out of range, and
 * techniques with --tcp are usage errors that say which. */
static void test_peer_hard_usage_errors(void **state)
{
	(void)state;
	static const struct {
		const char *flag, *value, *says;
	} bad[] = {
	    {"--techniques", "prediction,magic", "--techniques expects"},
	    {"--techniques", "", "--techniques expects"},
	    {"--sockets", "1025", "--sockets"},
	    {"--probe-rate", "0", "--probe-rate"},
	    {"--probes", "65536", "--probes"},
	    {"--prediction-window", "x", "--prediction-window"},
	    {"--prediction-window", "65", "--prediction-window"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"peer",
				"--name",
				"x",
				"--coord",
				"127.0.0.1:9",
				(char *)bad[i].flag,
				(char *)bad[i].value,
				NULL};
		struct child c = spawn("hard-usage", cmd_peer_main, argv);
		assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
		if (!file_contains(c.out, bad[i].says)) {
			dump(&c);
			fail_msg("%s %s: no word of %s", bad[i].flag, bad[i].value, bad[i].says);
		}
	}
	char *tcp[] = {"peer",	"--name",	"x",   "--coord", "127.0.0.1:9",
		       "--tcp", "--techniques", "all", NULL};
	struct child c = spawn("hard-usage-tcp", cmd_peer_main, tcp);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "not with --tcp"));
}

/* Nothing on 127.0.0.1:5351: the kernel answers port unreachable, and an
 * unbound peer (its socket's address 0.0.0.0) hears it and stops asking at
 * once, not after the 2 s of tries (cmd_peer.c on_icmp_error). */
static void test_peer_port_mapping_no_server(void **state)
{
	(void)state;
	struct sockaddr_in me = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK), .sin_port = htons(5351)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	bool free = bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0;
	close(fd);
	if (!free)
		skip();
	uint16_t port = free_port();
	struct child coord = start_coord(port, "10");
	char where[32];
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	char *argv[] = {"peer",	     "--name",	  "alice",     "--coord", where,
			"--gateway", "127.0.0.1", "--timeout", "5s",	  NULL};
	struct child alice = spawn("alice-nopcp", cmd_peer_main, argv);
	if (!wait_for_text(&alice, "the router answered PCP with port unreachable", 3000)) {
		dump(&alice);
		fail_msg("the peer did not take the port unreachable as 'no server'");
	}
	assert_int_equal(wait_exit(&alice, 6000), 0);
	/* At once: not after PCP's tries ran out, and no NAT-PMP after it. */
	assert_false(file_contains(alice.out, "did not answer PCP"));
	assert_false(file_contains(alice.out, "trying NAT-PMP"));
	stop_coord(&coord);
}

/* Nobody answers: a peer must give up at its --timeout with exit 1. */
static void test_peer_timeout(void **state)
{
	(void)state;
	char coord[32];
	snprintf(coord, sizeof(coord), "127.0.0.1:%u", free_port());
	char *argv[] = {"peer",	  "--name",    "lonely",    "--coord", coord,
			"--bind", "127.0.0.1", "--timeout", "700ms",   NULL};
	uint64_t t0 = now_ms();
	struct child c = spawn("timeout", cmd_peer_main, argv);
	assert_int_equal(wait_exit(&c, 5000), CLI_EXIT_FAILED);
	assert_true(now_ms() - t0 < 3000);
	assert_true(file_contains(c.out, "result: failed"));
}

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(workdir, sizeof(workdir), "/tmp/natsim-daemon-XXXXXX");
	return mkdtemp(workdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (getenv("NATSIM_KEEP_LOGS")) {
		fprintf(stderr, "logs kept in %s\n", workdir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- ICMP errors on real sockets (IP_RECVERR) ---- */

struct errq_seen {
	struct p2p_icmp_error err[8];
	struct p2p_endpoint local[8];
	size_t n;
};

static int errq_input(void *ctx, uint64_t now, const struct p2p_endpoint *local,
		      const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)now, (void)local, (void)from, (void)buf, (void)len;
	return 0;
}

static void errq_tick(void *ctx, uint64_t now)
{
	(void)ctx, (void)now;
}

static uint64_t errq_deadline(void *ctx)
{
	(void)ctx;
	return P2P_NO_DEADLINE;
}

static bool errq_flush(void *ctx, struct daemon *d, uint64_t now)
{
	(void)d, (void)now;
	return ((struct errq_seen *)ctx)->n >= 2;
}

static void errq_error(void *ctx, uint64_t now, const struct p2p_endpoint *local,
		       const struct p2p_icmp_error *err)
{
	struct errq_seen *s = ctx;
	(void)now;
	if (s->n < 8) {
		s->local[s->n] = *local;
		s->err[s->n++] = *err;
	}
}

/* Two datagrams to a closed port on 127.0.0.1: Linux answers each with
 * port unreachable (no rate limit on loopback: icmpv4_xrlim_allow). The
 * second send meets the first error pending on the socket (ECONNREFUSED
 * from sendto) and is sent again; the loop reads both errors from the
 * error queue, with the datagram's destination and the error's source. */
static void test_icmp_error_queue(void **state)
{
	(void)state;
	struct daemon d;
	char err[256];
	struct p2p_endpoint any = {.ip = LOOPBACK, .port = 0}, bound;
	assert_int_equal(daemon_init(&d, err, sizeof(err)), 0);
	assert_int_equal(daemon_bind(&d, &any, &bound, err, sizeof(err)), 0);
	struct p2p_datagram dg = {
	    .from = bound, .to = {.ip = LOOPBACK, .port = free_port()}, .len = 4};
	memcpy(dg.buf, "ping", 4);
	assert_int_equal(daemon_send(&d, &dg), 0);
	sleep_ms(50); /* the first error is in, pending on the socket */
	assert_int_equal(daemon_send(&d, &dg), 0);
	assert_int_equal(d.send_errors, 0);
	assert_int_equal(d.sent, 2);
	struct errq_seen seen = {.n = 0};
	static const struct daemon_ops ops = {errq_input, errq_tick,  errq_deadline,
					      errq_flush, errq_error, NULL};
	d.until_ns = daemon_now_ns() + 2 * P2P_NS_PER_S;
	assert_int_equal(daemon_run(&d, &ops, &seen), DAEMON_STOP_DONE);
	assert_int_equal(seen.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(seen.err[i].type, 3);
		assert_int_equal(seen.err[i].code, 3);
		assert_int_equal(seen.err[i].reporter.ip, LOOPBACK);
		assert_true(p2p_endpoint_equal(&seen.err[i].remote, &dg.to));
		assert_true(p2p_endpoint_equal(&seen.err[i].local, &bound));
		assert_true(p2p_endpoint_equal(&seen.local[i], &bound));
	}
	assert_int_equal(d.icmp_errors, 2);
	daemon_fini(&d);
}

/* Bob registers and stops (asked for nothing more; SIGKILL in case he
 * lingers): his registration outlives his socket. Alice
 * connects: her check to bob's socket draws port unreachable, so she gives
 * that candidate up and goes to the relay at once, not after the 5 s punch
 * deadline. */
static void test_peer_learns_port_unreachable(void **state)
{
	(void)state;
	uint16_t port = free_port();
	struct child coord = start_coord(port, "1000");
	char coord_ep[32];
	snprintf(coord_ep, sizeof(coord_ep), "127.0.0.1:%u", port);
	char *bob_argv[] = {"peer",   "--name",	   "bob",	"--coord", coord_ep,
			    "--bind", "127.0.0.1", "--timeout", "8s",	   NULL};
	struct child bob = spawn("bob", cmd_peer_main, bob_argv);
	if (!wait_for_text(&bob, "registered:", 3000)) {
		dump(&bob);
		fail_msg("bob did not register within 3 s");
	}
	kill(bob.pid, SIGKILL);
	wait_exit(&bob, 3000);
	char *alice_argv[] = {"peer",	 "--name",    "alice",	   "--coord", coord_ep,
			      "--bind",	 "127.0.0.1", "--connect", "bob",     "--send",
			      "anyone?", "--timeout", "8s",	   NULL};
	uint64_t t0 = now_ms();
	struct child alice = spawn("alice", cmd_peer_main, alice_argv);
	int rc = wait_exit(&alice, 10000);
	uint64_t took = now_ms() - t0;
	if (rc != 0 || !file_contains(alice.out, "pair-failed bob: ") ||
	    !file_contains(alice.out, "answered port unreachable") ||
	    !file_contains(alice.out, "path: relayed") || took >= 4000) {
		dump(&alice);
		fail_msg("alice: exit %d after %llu ms", rc, (unsigned long long)took);
	}
	stop_coord(&coord);
}

/* ---- extra sockets (agent.h "Extra sockets") ---- */

/* A plain UDP socket on 127.0.0.1 for the test's side; its port in *port. */
static int test_socket(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	struct timeval tv = {2, 0}; /* a lost datagram fails the test, not hangs it */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Receives one datagram on fd: its source port (0 if none came). */
static uint16_t source_port_of_next(int fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char buf[64];
	if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sin, &sl) < 0)
		return 0;
	return ntohs(sin.sin_port);
}

/* A daemon with its main socket and an extra table, both on 127.0.0.1. */
static void extra_daemon(struct daemon *d, struct daemon_extra *x, struct p2p_endpoint *main_ep)
{
	char err[256];
	struct p2p_endpoint any = {.ip = LOOPBACK, .port = 0};
	assert_int_equal(daemon_init(d, err, sizeof(err)), 0);
	assert_int_equal(daemon_bind(d, &any, main_ep, err, sizeof(err)), 0);
	daemon_extra_init(x, LOOPBACK);
	d->extra = x;
}

/* Socket k opens when a datagram first asks for it, on an ephemeral port of
 * the table's address, and is the same socket the next time; socket 0 is
 * still the main one, and a k beyond the table sends nothing. */
static void test_extra_opens_on_first_use(void **state)
{
	(void)state;
	struct daemon d;
	struct daemon_extra x;
	struct p2p_endpoint main_ep, local;
	uint16_t rport;
	int r = test_socket(&rport);
	extra_daemon(&d, &x, &main_ep);
	assert_false(daemon_extra_local(&x, 3, &local));
	struct p2p_datagram dg = {.to = {.ip = LOOPBACK, .port = rport}, .socket = 3, .len = 2};
	memcpy(dg.buf, "k3", 2);
	assert_int_equal(daemon_send(&d, &dg), 0);
	assert_int_equal(x.n_open, 1);
	assert_true(daemon_extra_local(&x, 3, &local));
	assert_int_equal(local.ip, LOOPBACK);
	assert_true(local.port != 0 && local.port != main_ep.port);
	assert_int_equal(source_port_of_next(r), local.port);
	assert_int_equal(daemon_send(&d, &dg), 0); /* again: the same socket */
	assert_int_equal(x.n_open, 1);
	assert_int_equal(x.opened, 1);
	assert_int_equal(source_port_of_next(r), local.port);
	dg.socket = 0;
	dg.from = main_ep;
	assert_int_equal(daemon_send(&d, &dg), 0);
	assert_int_equal(source_port_of_next(r), main_ep.port);
	dg.socket = DAEMON_MAX_EXTRA + 1;
	assert_int_equal(daemon_send(&d, &dg), -1);
	assert_int_equal(x.n_open, 1);
	daemon_extra_fini(&x);
	assert_int_equal(x.n_open, 0);
	assert_false(daemon_extra_local(&x, 3, &local));
	daemon_fini(&d);
	close(r);
}

static bool wanted_but_2(void *ctx, uint16_t k)
{
	(void)ctx;
	return k != 2;
}

/* Pruning closes exactly the sockets not wanted: their ports are free
 * again, the others stay open. */
static void test_extra_prune_closes_unwanted(void **state)
{
	(void)state;
	struct daemon d;
	struct daemon_extra x;
	struct p2p_endpoint main_ep, local2, local;
	extra_daemon(&d, &x, &main_ep);
	for (uint16_t k = 1; k <= 3; k++)
		assert_true(daemon_extra_socket(&x, k) >= 0);
	assert_true(daemon_extra_local(&x, 2, &local2));
	assert_int_equal(daemon_extra_prune(&x, wanted_but_2, NULL), 1);
	assert_int_equal(x.n_open, 2);
	assert_int_equal(x.closed, 1);
	assert_false(daemon_extra_local(&x, 2, &local));
	assert_true(daemon_extra_local(&x, 1, &local));
	assert_true(daemon_extra_local(&x, 3, &local));
	/* Its port is free: closed, not merely forgotten. */
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(LOOPBACK),
				  .sin_port = htons(local2.port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(fd);
	assert_int_equal(daemon_extra_prune(&x, wanted_but_2, NULL), 0);
	daemon_extra_fini(&x);
	daemon_fini(&d);
}

struct extra_seen {
	uint16_t k[4];
	struct p2p_endpoint from[4];
	size_t n;      /* input_socket calls */
	size_t n_main; /* input calls (socket 0) */
};

static int extra_input_main(void *ctx, uint64_t now, const struct p2p_endpoint *local,
			    const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	(void)now, (void)local, (void)from, (void)buf, (void)len;
	((struct extra_seen *)ctx)->n_main++;
	return 0;
}

static int extra_input_socket(void *ctx, uint64_t now, uint16_t k, const struct p2p_endpoint *from,
			      const uint8_t *buf, size_t len)
{
	struct extra_seen *s = ctx;
	(void)now, (void)buf, (void)len;
	if (s->n < 4) {
		s->k[s->n] = k;
		s->from[s->n++] = *from;
	}
	return 0;
}

static bool extra_flush(void *ctx, struct daemon *d, uint64_t now)
{
	const struct extra_seen *s = ctx;
	(void)d, (void)now;
	return s->n + s->n_main >= 3;
}

/* What arrives on extra socket k goes to input_socket with k and the
 * sender; what arrives on the main socket to input, as before. */
static void test_extra_input_routed(void **state)
{
	(void)state;
	struct daemon d;
	struct daemon_extra x;
	struct p2p_endpoint main_ep, l2, l3;
	uint16_t sport;
	int s = test_socket(&sport);
	extra_daemon(&d, &x, &main_ep);
	for (uint16_t k = 1; k <= 3; k++)
		assert_true(daemon_extra_socket(&x, k) >= 0);
	assert_true(daemon_extra_local(&x, 2, &l2));
	assert_true(daemon_extra_local(&x, 3, &l3));
	const struct p2p_endpoint *to[3] = {&l2, &main_ep, &l3};
	for (size_t i = 0; i < 3; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(LOOPBACK),
					  .sin_port = htons(to[i]->port)};
		assert_int_equal(sendto(s, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin)), 1);
	}
	struct extra_seen seen = {.n = 0};
	static const struct daemon_ops ops = {extra_input_main, errq_tick, errq_deadline,
					      extra_flush,	NULL,	   extra_input_socket};
	d.until_ns = daemon_now_ns() + 2 * P2P_NS_PER_S;
	assert_int_equal(daemon_run(&d, &ops, &seen), DAEMON_STOP_DONE);
	assert_int_equal(seen.n_main, 1);
	assert_int_equal(seen.n, 2);
	bool got2 = false, got3 = false;
	for (size_t i = 0; i < 2; i++) {
		got2 |= seen.k[i] == 2;
		got3 |= seen.k[i] == 3;
		assert_int_equal(seen.from[i].ip, LOOPBACK);
		assert_int_equal(seen.from[i].port, sport);
	}
	assert_true(got2 && got3);
	daemon_extra_fini(&x);
	daemon_fini(&d);
	close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    /* clang-format off: one a line, so additions merge */
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_peer_hard_usage_errors),
	    cmocka_unit_test(test_peer_timeout),
	    cmocka_unit_test(test_peer_port_mapping),
	    cmocka_unit_test(test_peer_port_mapping_no_server),
	    cmocka_unit_test(test_loopback_exchange),
	    cmocka_unit_test(test_allow_list),
	    cmocka_unit_test(test_stock_requests),
	    cmocka_unit_test(test_no_loopback_host_candidates),
	    cmocka_unit_test(test_peer_logs_refusals),
	    cmocka_unit_test(test_icmp_error_queue),
	    cmocka_unit_test(test_peer_learns_port_unreachable),
	    cmocka_unit_test(test_extra_opens_on_first_use),
	    cmocka_unit_test(test_extra_prune_closes_unwanted),
	    cmocka_unit_test(test_extra_input_routed),
	    cmocka_unit_test(test_flood),
	    /* clang-format on */
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
