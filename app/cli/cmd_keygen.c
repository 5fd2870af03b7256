/*
 * cmd_keygen.c - `natsim keygen`: write a new identity to a key file.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/cli/cli.h"
#include "app/net/keyfile.h"

const char cmd_keygen_usage[] =
    "Usage: natsim keygen -o FILE [--force]\n"
    "\n"
    "Create a peer identity for 'natsim peer --key FILE': a random 32-byte seed\n"
    "from which the Ed25519 (signing) and X25519 (encryption) key pairs are\n"
    "derived. The file is written with mode 0600; the public keys are printed and\n"
    "kept in the file as comments.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  where to write the key (required)\n"
    "  -f, --force        replace FILE if it is a regular file (default: refuse);\n"
    "                     a device, fifo, folder or symbolic link is never replaced\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 written, 1 could not write, 2 bad usage, FILE exists or is\n"
    "not a regular file.\n";

static void print_public(const uint8_t seed[CRYPTO_SEED_SIZE], const char *path)
{
	struct crypto_identity id;
	char sign_hex[65], box_hex[65];
	crypto_identity_from_seed(&id, seed);
	keyfile_hex(id.sign_pk, sizeof(id.sign_pk), sign_hex);
	keyfile_hex(id.box_pk, sizeof(id.box_pk), box_hex);
	sodium_memzero(&id, sizeof(id));
	printf("wrote %s\nsign-public-key %s\nbox-public-key  %s\n", path, sign_hex, box_hex);
}

int cmd_keygen_main(int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 {"force", no_argument, NULL, 'f'},
						 {NULL, 0, NULL, 0}};
	const char *out = NULL;
	bool force = false;
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":o:f", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		default: /* ':' missing value, '?' unknown option */
			return cli_option_error("keygen", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (!out || !*out)
		return cli_usage_error("keygen", "-o FILE is required: where to write the key");

	uint8_t seed[CRYPTO_SEED_SIZE];
	char err[512];
	if (keyfile_generate(seed) < 0) {
		fprintf(stderr, "natsim keygen: libsodium could not start\n");
		return CLI_EXIT_INTERNAL;
	}
	int rc = keyfile_save(out, seed, force, err, sizeof(err));
	if (rc == KEYFILE_OK)
		print_public(seed, out);
	sodium_memzero(seed, sizeof(seed));
	if (rc == KEYFILE_ERR_EXISTS || rc == KEYFILE_ERR_NOT_FILE)
		return cli_usage_error("keygen", "%s", err);
	if (rc < 0) {
		fprintf(stderr, "natsim keygen: %s\n", err);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}
