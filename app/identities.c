/*
 * identities.c - see identities.h. The second thread takes the upper half;
 * below a few hundred identities a thread is not worth making.
 */
#include "app/identities.h"

#include <pthread.h>

#define IDENTITIES_MIN_SPLIT 256

struct span {
	struct crypto_identity *out;
	const uint8_t (*seeds)[CRYPTO_SEED_SIZE];
	size_t n;
};

static void derive_span(const struct span *s)
{
	for (size_t i = 0; i < s->n; i++)
		crypto_identity_from_seed(&s->out[i], s->seeds[i]);
}

static void *derive_thread(void *arg)
{
	derive_span(arg);
	return NULL;
}

int identities_derive(struct crypto_identity *out, const uint8_t (*seeds)[CRYPTO_SEED_SIZE],
		      size_t n)
{
	/* Initialise libsodium before any thread uses it. */
	if (crypto_init() < 0)
		return -1;
	size_t half = n >= IDENTITIES_MIN_SPLIT ? n / 2 : 0;
	struct span low = {out, seeds, n - half}, high = {out + (n - half), seeds + (n - half), half};
	pthread_t t;
	bool threaded = half > 0 && pthread_create(&t, NULL, derive_thread, &high) == 0;

	derive_span(&low);
	if (threaded)
		pthread_join(t, NULL);
	else
		derive_span(&high);
	return 0;
}
