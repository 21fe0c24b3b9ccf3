/*
 * jsoncheck.h — a strict, bounded JSON checker (RFC 8259) for text a
 * lower-trust process hands to the store: the worker's report and audit
 * details. It says yes or no; it builds nothing and interprets nothing.
 *
 * Accepted: one object at the top, at most max bytes, nesting at most
 * JSON_DEPTH_MAX, strings of valid UTF-8 with no raw control character and
 * only the escapes of RFC 8259 (a \u escape of a lone surrogate is
 * refused), numbers in the RFC 8259 grammar, the three literals, and no
 * key twice in the top-level object (so a crafted report cannot carry a
 * second "verdict" that a reader's parser might take instead of the first).
 *
 * SECURITY: input is hostile (written inside the sandbox). Iterative over
 * an explicit depth counter (no recursion), every read bounds-checked.
 */
#ifndef MUGAI_STORE_JSONCHECK_H
#define MUGAI_STORE_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"

/* Keys of the top-level object compared for duplicates (a report has a
 * handful; more is refused rather than compared quadratically). */

bool jsoncheck_object(const char *s, size_t n, size_t max);

#endif
