/*
 * fuzz_scenario.c - libFuzzer target: the scenario parser.
 *
 * Any bytes are a scenario file. The parser must return a scenario or
 * refuse with at least one error; it must never crash, read out of bounds or
 * leak. A parsed scenario then takes a --set override spelt by the input's
 * last line, the other way the language is read; the same line is also read
 * as a duration (the parser natsim's flags share).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/diag.h"
#include "app/lang/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The last line, as a NUL-terminated --set argument, or NULL. */
static char *last_line(const uint8_t *data, size_t size)
{
	size_t end = size, start;

	while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && data[start - 1] != '\n')
		start--;
	if (start == end || memchr(data + start, '\0', end - start))
		return NULL;
	char *s = malloc(end - start + 1);
	if (s) {
		memcpy(s, data + start, end - start);
		s[end - start] = '\0';
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag *d = diag_new();
	if (!d)
		return 0;
	struct scenario *s = scenario_parse((const char *)data, size, "fuzz.nsim", d);
	if (!s) {
		if (diag_count_errors(d) == 0)
			abort(); /* a refusal always says why */
	} else {
		char *set = last_line(data, size);
		int64_t ns;
		if (set)
			(void)scenario_parse_duration(set, &ns);
		if (set && scenario_set_override(s, set, d) < 0 && diag_count_errors(d) == 0)
			abort();
		free(set);
		scenario_free(s);
	}
	diag_free(d);
	return 0;
}
