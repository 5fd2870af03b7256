/*
 * host_tcp.c - the host's TCP sockets (host.h "TCP").
 *
 * NOT FINISHED (issue 16): the interface is set so that the scenario
 * language and the world can be written against it; until the stack lands
 * every call refuses (NULL, 0) and nothing is sent.
 */
#include "model/host.h"

struct host_tcp *host_tcp_listen(struct host *h, uint32_t addr, uint16_t port, bool reuse,
				 host_tcp_accept_fn fn, void *ctx)
{
	(void)h, (void)addr, (void)port, (void)reuse, (void)fn, (void)ctx;
	return NULL;
}

struct host_tcp *host_tcp_connect(struct host *h, const struct endpoint *local,
				  const struct endpoint *to, bool reuse, host_tcp_fn fn, void *ctx)
{
	(void)h, (void)local, (void)to, (void)reuse, (void)fn, (void)ctx;
	return NULL;
}

void host_tcp_set_fn(struct host_tcp *s, host_tcp_fn fn, void *ctx)
{
	(void)s, (void)fn, (void)ctx;
}

size_t host_tcp_send(struct host_tcp *s, const void *data, size_t len)
{
	(void)s, (void)data, (void)len;
	return 0;
}

void host_tcp_close(struct host_tcp *s)
{
	(void)s;
}

void host_tcp_abort(struct host_tcp *s)
{
	(void)s;
}

enum tcp_state host_tcp_state(const struct host_tcp *s)
{
	(void)s;
	return TCP_CLOSED;
}

struct endpoint host_tcp_local(const struct host_tcp *s)
{
	(void)s;
	return (struct endpoint){0};
}

struct endpoint host_tcp_remote(const struct host_tcp *s)
{
	(void)s;
	return (struct endpoint){0};
}

struct host *host_tcp_host(const struct host_tcp *s)
{
	(void)s;
	return NULL;
}

int host_set_tcp_config(struct host *h, const struct tcp_config *cfg)
{
	(void)h, (void)cfg;
	return 0;
}

void host_tcp_config(const struct host *h, struct tcp_config *out)
{
	(void)h;
	tcp_config_default(out);
}
