/*
 * identities.c - see identities.h. Work is handed out in chunks from one
 * atomic counter, so whichever thread is free takes the next chunk and
 * neither waits while the other has work; below a few hundred identities a
 * thread is not worth making.
 */
#include "app/world/identities.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define IDENTITIES_MIN_THREAD 256
#define IDENTITIES_CHUNK 64

struct identities_job {
	struct crypto_identity *out;
	const uint8_t (*seeds)[CRYPTO_SEED_SIZE];
	size_t n;
	atomic_size_t next; /* first index not yet taken */
	pthread_t thread;
	bool threaded;
};

/* Takes and derives chunks until none is left. */
static void derive_chunks(struct identities_job *job)
{
	for (;;) {
		size_t lo = atomic_fetch_add(&job->next, IDENTITIES_CHUNK);
		if (lo >= job->n)
			return;
		size_t hi = lo + IDENTITIES_CHUNK < job->n ? lo + IDENTITIES_CHUNK : job->n;
		for (size_t i = lo; i < hi; i++)
			crypto_identity_from_seed(&job->out[i], job->seeds[i]);
	}
}

static void *derive_thread(void *arg)
{
	derive_chunks(arg);
	return NULL;
}

struct identities_job *identities_start(struct crypto_identity *out,
					const uint8_t (*seeds)[CRYPTO_SEED_SIZE], size_t n)
{
	/* Initialise libsodium before any thread uses it. */
	if (crypto_init() < 0)
		return NULL;
	struct identities_job *job = calloc(1, sizeof(*job));
	if (job == NULL)
		return NULL;
	job->out = out;
	job->seeds = seeds;
	job->n = n;
	atomic_init(&job->next, 0);
	job->threaded = n >= IDENTITIES_MIN_THREAD &&
			pthread_create(&job->thread, NULL, derive_thread, job) == 0;
	return job;
}

void identities_finish(struct identities_job *job)
{
	if (job == NULL)
		return;
	derive_chunks(job);
	if (job->threaded)
		pthread_join(job->thread, NULL);
	free(job);
}

int identities_derive(struct crypto_identity *out, const uint8_t (*seeds)[CRYPTO_SEED_SIZE],
		      size_t n)
{
	struct identities_job *job = identities_start(out, seeds, n);

	if (job == NULL)
		return -1;
	identities_finish(job);
	return 0;
}
