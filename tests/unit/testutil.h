/*
 * testutil.h — shared helpers for cmocka unit tests.
 */
#ifndef MUGAI_TESTUTIL_H
#define MUGAI_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <cmocka.h>

/* Compare strings and print got/want on mismatch. */
#define assert_str_eq_msg(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (strcmp(g_, w_) != 0) \
		print_error("got:  [%s]\nwant: [%s]\n", g_, w_); \
	assert_string_equal(g_, w_); \
} while (0)

#endif
