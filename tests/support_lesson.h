/*
 * support_lesson.h - the small world the exercise tests share (test_exercise,
 * test_gift, test_handout): Alice and Bob behind two port-restricted cones,
 * Bob's link slow, both registered at 0 s, Alice asking for Bob at 1 s. A test
 * puts its own title before it and its own lines (actions, lesson
 * statements) after it.
 */
#ifndef NATSIM_TESTS_SUPPORT_LESSON_H
#define NATSIM_TESTS_SUPPORT_LESSON_H

#define LESSON_WORLD                                                                               \
	"seed 1\n"                                                                                 \
	"internet latency 20ms\n"                                                                  \
	"coordinator coord at 192.0.2.10\n"                                                        \
	"nat home preset port-restricted-cone public 203.0.113.7\n"                                \
	"nat office preset port-restricted-cone public 198.51.100.9\n"                             \
	"host alice at 192.168.1.5 behind home\n"                                                  \
	"host bob at 10.0.0.7 behind office\n"                                                     \
	"link bob latency 60ms\n"                                                                  \
	"at 0s register alice\n"                                                                   \
	"at 0s register bob\n"                                                                     \
	"at 1s connect alice to bob\n"

#endif
