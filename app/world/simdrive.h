/*
 * simdrive.h - runs the real p2p code (p2p/agent, p2p/coord) on simulated
 * hosts' sockets.
 *
 * The driver loop of STYLE.md, on the engine instead of poll(): a datagram
 * delivered to the socket goes to *_input(); the outgoing datagrams are drained
 * to the socket; the next deadline becomes one engine event (re-armed lazily
 * when the deadline moves later, rescheduled when it moves earlier); events
 * are written to the trace as TRACE_APP records and handed to an optional
 * hook (the scenario runner uses it to check expectations).
 *
 * The p2p objects see only p2p_endpoint and nanoseconds: this file is the only
 * place where they meet the models. The same objects run on real sockets in
 * app/net/daemon.c.
 *
 * The driver holds both ends of every session, so it keeps one shared-secret
 * cache (app/world/secrets.h) and gives it to every agent through its speed layer
 * (p2p/agent_speed.h, agent_speed.shared_secret):
 * each pair's X25519 step is computed once, not once per side. It also sees
 * every registration signed: each agent's agent_speed.signed_registration and each
 * coordinator's coord_config.verify go to that same cache (unless the config
 * sets its own), so a worker thread, when started, can verify a signature
 * before the REGISTER reaches the coordinator. Both change only speed:
 * results are the same bytes either way, and a run without the worker does
 * every computation inline, as before.
 */
#ifndef NATSIM_APP_SIMDRIVE_H
#define NATSIM_APP_SIMDRIVE_H

#include "model/host.h"
#include "model/net.h"
#include "p2p/agent.h"
#include "p2p/coord.h"

struct secrets_stats;

struct simdrive;
struct sim_agent;
struct sim_coord;

typedef void (*simdrive_agent_hook)(struct sim_agent *sa, const struct p2p_event *ev, void *ctx);
typedef void (*simdrive_coord_hook)(struct sim_coord *sc, const struct coord_event *ev, void *ctx);

/* A driver for the world `net` (borrowed; must outlive the driver). */
struct simdrive *simdrive_new(struct net *net);
/* Frees every agent and coordinator (their sockets are closed). */
void simdrive_free(struct simdrive *d);

void simdrive_set_hooks(struct simdrive *d, simdrive_agent_hook agent_hook,
			simdrive_coord_hook coord_hook, void *ctx);

/* A coordinator on host `h`, listening on cfg->primary and, with an alternate
 * address, on all four RFC 5780 endpoints (the host must hold both
 * addresses). `cfg->random` is filled by the driver from the world's seed;
 * cfg->verify, if NULL, becomes the driver's cache (secrets_verify: the
 * verdict crypto_identity_verify gives, maybe computed ahead). Returns NULL
 * if a socket cannot be bound or on OOM. */
struct sim_coord *simdrive_add_coord(struct simdrive *d, struct host *h,
				     const struct coord_config *cfg);
struct coord *sim_coord_coord(struct sim_coord *sc);
/* The coordinator listens on TCP too, at each of its UDP endpoints (coord.h
 * "TCP"; app/world/simtcp.h carries its connections out). 0, or -1 if a port
 * is taken or on OOM. Calling it again does nothing. */
int simdrive_coord_listen_tcp(struct sim_coord *sc);

/* An agent on host `h`. cfg->local must be one of the host's addresses (port 0
 * picks an ephemeral port; not with cfg->transport TCP, whose connections
 * and listener the driver opens on the host's TCP stack when the agent asks,
 * app/world/simtcp.h); cfg->random and, if both are NULL, cfg->key_seed
 * (not cfg->speed->identity) are filled by the driver from the world's seed
 * and the agent's name, so runs are deterministic. cfg->speed's hooks left
 * NULL become the driver's (its caches, event texts only when read, shared
 * spare queue arrays); a build with NATSIM_AGENT_SPEED=OFF installs no speed
 * layer at all. Returns NULL if the port is taken or on OOM. */
struct sim_agent *simdrive_add_agent(struct simdrive *d, struct host *h,
				     const struct agent_config *cfg);
/* The key seed simdrive_add_agent gives agent `name` when its config has
 * neither key_seed nor identity: to derive identities ahead (app/world/identities.h)
 * and pass them as cfg->identity, with the same result. */
void simdrive_key_seed(const struct simdrive *d, const char *name,
		       uint8_t seed[CRYPTO_SEED_SIZE]);
struct agent *sim_agent_agent(struct sim_agent *sa);
struct host *sim_agent_host(struct sim_agent *sa);
const char *sim_agent_name(const struct sim_agent *sa);
struct sim_agent *simdrive_find_agent(struct simdrive *d, const char *name);
size_t simdrive_agent_count(const struct simdrive *d);
struct sim_agent *simdrive_agent_at(struct simdrive *d, size_t i);

/* Call after any agent_* call made from outside the driver (register,
 * connect, send, classify, set_keepalive) so its output is sent and its next
 * deadline scheduled. */
void sim_agent_flush(struct sim_agent *sa);
/* The agent's program stops, as a killed process does: its socket closes
 * (so its host answers what arrives there as Linux does: port unreachable)
 * and its timers end; it says goodbye to nobody, so the coordinator keeps
 * its registration until it expires. The agent object stays, frozen, for
 * sim_agent_agent and the lookups; sim_agent_flush then drops whatever it
 * would send. Stopping twice does nothing. */
void sim_agent_stop(struct sim_agent *sa);
bool sim_agent_stopped(const struct sim_agent *sa);

/* Optional, and they change only speed, never a result: announce before the
 * run that agents a and b will be introduced (nothing is computed yet), then
 * start one worker thread that computes the announced secrets in order while
 * the simulation runs, verifying each registration signature as soon as an
 * agent made it in between; the simulation takes each result when it is
 * ready and computes it itself when it is not, never waiting. Both agents
 * must belong to this driver. simdrive_expect_session returns 0, or a
 * negative enum secrets_error (SECRETS_ERR_STARTED after
 * simdrive_start_precompute). The worker is stopped and joined by
 * simdrive_free. */
int simdrive_expect_session(struct simdrive *d, struct sim_agent *a, struct sim_agent *b);
int simdrive_start_precompute(struct simdrive *d);
/* Who computed the secrets and signature verdicts so far (app/world/secrets.h). */
void simdrive_secret_stats(const struct simdrive *d, struct secrets_stats *out);

/* The payload summariser for the dissector: STUN and natsim messages. */
int simdrive_payload_summary(const uint8_t *payload, size_t len, char *out, size_t size);

#endif
