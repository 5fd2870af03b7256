/*
 * test_text.c - the text helpers the renderers share: UTF-8 widths, byte
 * counts for a number of columns, word wrapping (cutting a long word or
 * keeping it whole), ASCII transliteration and bounded appending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "viz/text.h"

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(text_width("", 0), 0);
	assert_int_equal(text_width("abc", 3), 3);
	/* One column per code point, whatever its byte count. */
	assert_int_equal(text_width("caf\u00e9", strlen("caf\u00e9")), 4);
	assert_int_equal(text_width("a \u2192 b", strlen("a \u2192 b")), 5);
	assert_int_equal(text_width("\u2500\u2500", strlen("\u2500\u2500")), 2);
	assert_int_equal(text_width("\xf0\x9f\x98\x80!", 5), 2);
	/* Only the first n bytes count; a code point starting in them does. */
	assert_int_equal(text_width("a\u2192b", 2), 2);
	assert_int_equal(text_width("a\u2192b", 1), 1);
	/* A NUL ends the string even when n says more. */
	assert_int_equal(text_width("ab\0cd", 5), 2);
}

static void test_bytes_for_cols(void **state)
{
	(void)state;
	const char *s = "a\u2192\u00e9z";
	assert_int_equal(text_bytes_for_cols(s, 0), 0);
	assert_int_equal(text_bytes_for_cols(s, 1), 1);
	assert_int_equal(text_bytes_for_cols(s, 2), 4);
	assert_int_equal(text_bytes_for_cols(s, 3), 6);
	assert_int_equal(text_bytes_for_cols(s, 4), 7);
	assert_int_equal(text_bytes_for_cols(s, 99), strlen(s));
	/* A sequence cut short by the NUL (as text_appendf may leave one) is
	 * not stepped over. */
	assert_int_equal(text_bytes_for_cols("ab\xe2\x86", 5), 4);
}

static void test_fit_words(void **state)
{
	(void)state;
	const char *s = "one two three";
	/* Whole words only, in both modes. */
	for (int cut = 0; cut < 2; cut++) {
		assert_ptr_equal(text_fit_words(s, 13, cut), s + 13);
		assert_ptr_equal(text_fit_words(s, 12, cut), s + 7);
		assert_ptr_equal(text_fit_words(s, 7, cut), s + 7);
		assert_ptr_equal(text_fit_words(s, 6, cut), s + 3);
		assert_ptr_equal(text_fit_words("", 5, cut), "" + 0);
	}
	/* Spaces between words count as columns. */
	assert_ptr_equal(text_fit_words("a  b", 3, false), "a  b" + 1);
	/* Widths are in columns, not bytes: "x→y" is 3 columns, 5 bytes. */
	const char *u = "x\u2192y z";
	assert_ptr_equal(text_fit_words(u, 5, false), u + strlen(u));
	assert_ptr_equal(text_fit_words(u, 4, false), u + 5);
}

static void test_fit_words_long_word(void **state)
{
	(void)state;
	const char *s = "abcdefgh ij";
	/* Cut: exactly `avail` columns of the first word. */
	assert_ptr_equal(text_fit_words(s, 5, true), s + 5);
	/* Keep: the whole first word, running over; nothing after it. */
	assert_ptr_equal(text_fit_words(s, 5, false), s + 8);
	/* A cut lands on a code point boundary. */
	const char *u = "\u2192\u2192\u2192\u2192";
	assert_ptr_equal(text_fit_words(u, 2, true), u + 6);
	assert_ptr_equal(text_fit_words(u, 2, false), u + strlen(u));
	/* A long word after a first one goes to the next line in both modes. */
	assert_ptr_equal(text_fit_words("ab cdefghij", 5, true), "ab cdefghij" + 2);
	assert_ptr_equal(text_fit_words("ab cdefghij", 5, false), "ab cdefghij" + 2);
}

static void test_to_ascii(void **state)
{
	(void)state;
	char out[64];
	text_to_ascii("plain text, 100%", out, sizeof(out));
	assert_string_equal(out, "plain text, 100%");
	text_to_ascii("a \u2192 b \u2190 c \u2194 d", out, sizeof(out));
	assert_string_equal(out, "a -> b <- c <-> d");
	text_to_ascii("\u2717 \u2713 \u2014 \u2013 \u2500 \u2026", out, sizeof(out));
	assert_string_equal(out, "x ok - - - ...");
	/* Anything else non-ASCII, of any length, is one '?'. */
	text_to_ascii("caf\u00e9 \u25b6 \xf0\x9f\x98\x80!", out, sizeof(out));
	assert_string_equal(out, "caf? ? ?!");
	/* A stray continuation byte and a sequence cut by the NUL. */
	text_to_ascii("a\x80z\xe2\x86", out, sizeof(out));
	assert_string_equal(out, "a?z?");
}

static void test_to_ascii_truncates(void **state)
{
	(void)state;
	char out[8];
	memset(out, 'X', sizeof(out));
	text_to_ascii("abcdefghijkl", out, sizeof(out));
	/* Stops 4 short of the end (room for "<->" and the NUL). */
	assert_string_equal(out, "abcd");
	/* A replacement is written whole or not at all. */
	text_to_ascii("ab\u2194\u2194", out, sizeof(out));
	assert_string_equal(out, "ab<->");
	char tiny[1] = {'X'};
	text_to_ascii("abc", tiny, sizeof(tiny));
	assert_int_equal(tiny[0], '\0');
}

static void test_appendf(void **state)
{
	(void)state;
	char buf[16] = "";
	text_appendf(buf, sizeof(buf), "%s", "hello");
	text_appendf(buf, sizeof(buf), " #%d", 42);
	assert_string_equal(buf, "hello #42");
	/* Cut at size - 1, still NUL-terminated. */
	text_appendf(buf, sizeof(buf), " and %s", "far too much");
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_string_equal(buf, "hello #42 and f");
	/* A full buffer is left alone. */
	text_appendf(buf, sizeof(buf), "more");
	assert_string_equal(buf, "hello #42 and f");
	/* The bytes after the buffer are never touched. */
	char guard[8];
	memset(guard, 'G', sizeof(guard));
	guard[0] = '\0';
	text_appendf(guard, 4, "%s", "abcdef");
	assert_string_equal(guard, "abc");
	assert_memory_equal(guard + 4, "GGGG", 4);
}

/* Times are cut to the millisecond, as the timeline prints them: an event at
 * 1.4865 s is at 1.486 everywhere, never 1.487 in one place and 1.486 in another. */
static void test_seconds(void **state)
{
	(void)state;
	char b[TEXT_SECONDS_SIZE];
	assert_string_equal(text_seconds(1486500000, b, sizeof(b)), "1.486");
	assert_string_equal(text_seconds(999999999, b, sizeof(b)), "0.999");
	assert_string_equal(text_seconds(0, b, sizeof(b)), "0.000");
	assert_string_equal(text_seconds(-5, b, sizeof(b)), "0.000");
	assert_string_equal(text_seconds(86400000000000, b, sizeof(b)), "86400.000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width),     cmocka_unit_test(test_bytes_for_cols),
	    cmocka_unit_test(test_fit_words), cmocka_unit_test(test_fit_words_long_word),
	    cmocka_unit_test(test_to_ascii),  cmocka_unit_test(test_to_ascii_truncates),
	    cmocka_unit_test(test_appendf),   cmocka_unit_test(test_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
