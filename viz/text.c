/*
 * text.c - string helpers shared by the text renderers (see text.h). They
 * were once copied into each renderer; one copy keeps the ASCII table and the
 * wrapping rules the same in the ladder, the timeline and why.
 */
#include "viz/text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Bytes in the UTF-8 sequence a byte starts; a stray continuation byte or
 * other invalid lead counts as one so a scan always advances. */
static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

size_t text_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n && s[i] != '\0'; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

size_t text_bytes_for_cols(const char *s, size_t cols)
{
	size_t i = 0;
	while (s[i] != '\0' && cols > 0) {
		/* A truncated sequence at the end must not step over the NUL. */
		for (size_t n = utf8_len((unsigned char)s[i]); n > 0 && s[i] != '\0'; n--)
			i++;
		cols--;
	}
	return i;
}

const char *text_fit_words(const char *p, size_t avail, bool cut_long_words)
{
	const char *end = p;
	size_t cols = 0;
	while (*end != '\0') {
		const char *q = end;
		while (*q == ' ')
			q++;
		const char *e = q;
		while (*e != '\0' && *e != ' ')
			e++;
		size_t need = text_width(end, (size_t)(e - end));
		if (cols + need > avail) {
			if (cols != 0)
				break;
			/* The first word alone is too wide: cut it here, or let it run
			 * over, whichever the caller's layout can live with. */
			if (cut_long_words)
				return p + text_bytes_for_cols(p, avail);
		}
		cols += need;
		end = e;
	}
	return end;
}

void text_to_ascii(const char *in, char *out, size_t size)
{
	static const struct {
		const char *utf8, *ascii;
	} table[] = {
	    {"\u2192", "->"}, {"\u2190", "<-"},	 {"\u2194", "<->"},
	    {"\u2717", "x"},  {"\u2713", "ok"},	 {"\u2014", "-"},
	    {"\u2013", "-"},  {"\u2026", "..."}, {"\u2500", "-"},
	};
	size_t o = 0;
	/* The longest replacement is 3 bytes: stopping 4 short of the end leaves
	 * room for it and the NUL. */
	while (*in != '\0' && o + 4 < size) {
		size_t n = utf8_len((unsigned char)*in);
		if ((unsigned char)*in < 0x80) {
			out[o++] = *in++;
			continue;
		}
		const char *rep = "?";
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (strncmp(in, table[i].utf8, strlen(table[i].utf8)) == 0)
				rep = table[i].ascii;
		size_t rl = strlen(rep);
		memcpy(out + o, rep, rl);
		o += rl;
		for (size_t i = 0; i < n && *in != '\0'; i++)
			in++;
	}
	out[o] = '\0';
}

void text_appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	if (len + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

char *text_seconds(int64_t ns, char *buf, size_t size)
{
	if (ns < 0)
		ns = 0;
	snprintf(buf, size, "%" PRId64 ".%03d", ns / 1000000000, (int)(ns % 1000000000 / 1000000));
	return buf;
}
