/*
 * test_gift.c - the Moodle GIFT export (app/lesson/gift.h): GIFT's special
 * characters escaped, the computed answer marked with '=', one question per
 * question and student, and a variant that changes the answer between two
 * students showing each student's own answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/lang/diag.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "support_lesson.h"
#include "app/lesson/gift.h"

static const char exercise_text[] =
    "title \"t\"\n"
    LESSON_WORLD
    "question q1 \"How do they end?\" outcome alice and bob\n"
    "question q2 \"Alice's first packet to Bob?\" drop from alice to bob\n"
    "question q3 \"Port {a}: #1 = ~x?\" port home for alice:5000\n"
    "question q4 \"What is office?\" classify office\n"
    "variant office.preset port-restricted-cone | symmetric\n";

/* Everything a function writes to a FILE, as a string (the caller frees). */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static char *capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->text;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The options of question `id` for `student`: from its title to its '}'. */
static char *question_block(const char *gift, const char *id, const char *student)
{
	char title[64];
	snprintf(title, sizeof(title), "::%s-student%s::", id, student);
	const char *p = strstr(gift, title);
	assert_non_null(p);
	const char *end = strchr(p, '}');
	assert_non_null(end);
	return strndup(p, (size_t)(end - p + 1));
}

static void test_escaping(void **state)
{
	(void)state;
	struct capture c;
	capture_open(&c);
	gift_put_escaped(c.f, "a~b=c#d{e}f:g\\h\ni");
	char *s = capture_close(&c);
	assert_string_equal(s, "a\\~b\\=c\\#d\\{e\\}f\\:g\\\\h\\ni");
	free(s);
}

static void test_export(void **state)
{
	(void)state;
	struct diag *d = diag_new();
	struct exercise *x = exercise_parse(exercise_text, strlen(exercise_text), "x.nsim", d);
	assert_non_null(x);
	/* Two students with different variants: the first ids that differ. */
	static char ids[2][16];
	const char *students[2] = {ids[0], ids[1]};
	size_t want[2] = {0, 1};
	for (int k = 0; k < 2; k++)
		for (int i = 1;; i++) {
			snprintf(ids[k], sizeof(ids[k]), "%d", i);
			if (exercise_variant_pick(&x->variants[0], ids[k]) == want[k])
				break;
		}
	struct exercise_options o = {0};
	struct capture c;
	capture_open(&c);
	assert_int_equal(gift_export(c.f, x, students, 2, &o, d), 0);
	char *gift = capture_close(&c);

	assert_non_null(strstr(gift, "$CATEGORY: natsim/x\n"));
	assert_int_equal(count(gift, "\n::"), 8); /* 4 questions x 2 students */
	/* the port question: escaped text, numerical answer */
	assert_non_null(strstr(gift, "Port \\{a\\}\\: \\#1 \\= \\~x? {#5000}"));
	/* the variant changes office's kind: each student gets their own answer */
	char *a = question_block(gift, "q4", ids[0]), *b = question_block(gift, "q4", ids[1]);
	assert_non_null(strstr(a, "=port-restricted-cone"));
	assert_non_null(strstr(a, "~symmetric"));
	assert_non_null(strstr(b, "=symmetric"));
	assert_non_null(strstr(b, "~port-restricted-cone"));
	assert_int_equal(count(a, "\t="), 1);
	free(a);
	free(b);
	a = question_block(gift, "q1", ids[0]);
	b = question_block(gift, "q1", ids[1]);
	assert_non_null(strstr(a, "=direct"));
	assert_non_null(strstr(b, "=relayed"));
	free(a);
	free(b);
	/* the drop: "NODE REASON" options, the computed one right */
	a = question_block(gift, "q2", ids[0]);
	assert_non_null(strstr(a, "\t=office nat-filter\n"));
	assert_non_null(strstr(a, "\t~bob firewall\n"));
	assert_non_null(strstr(a, "\t~delivered\n"));
	assert_int_equal(count(a, "\t="), 1);
	free(a);
	free(gift);
	exercise_free(x);
	diag_free(d);
}

/* A port with no mapping is no number: a short answer, not {#none}. */
static void test_port_without_mapping(void **state)
{
	(void)state;
	struct question q = {.id = "p", .text = (char *)"Port?", .kind = QUESTION_PORT};
	struct answer a = {.text = "none"};
	struct capture c;
	capture_open(&c);
	gift_write_question(c.f, &q, NULL, &a, NULL);
	char *s = capture_close(&c);
	assert_string_equal(s, "::p-reference:: Port? {=none}\n\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_export),
	    cmocka_unit_test(test_port_without_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
