/*
 * id.h — message/file ids: "YYYYMMDD-HHMMSS-xxxxxxxx" (UTC time + 32 random
 * bits from getrandom). Sortable by time, short enough to read out on the
 * phone, unique in practice; the store rejects a duplicate.
 *
 * SECURITY: uses the kernel's CSPRNG; no input.
 */
#ifndef MUGAI_ID_H
#define MUGAI_ID_H

#include "defs.h"

#define MUGAI_ID_LEN 24 /* chars, without the NUL */

int mugai_id_new(char out[MUGAI_ID_LEN + 1]) MUGAI_WUR;
/* True when s has the id syntax (used to validate command-line ids). */
int mugai_id_valid(const char *s);

#endif
