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

/* The 受付番号 a clerk reads over the phone: the id's 8 random hex digits
 * grouped 4-4 ("3fa9-01bc"). id must be valid. */
#define MUGAI_ID_SHORT_LEN 9
void mugai_id_short(const char *id, char out[MUGAI_ID_SHORT_LEN + 1]);
/* "3fa9-01bc" or "3FA901BC" (a clerk may type either) as the id's last 8
 * digits in lower case into tail; 0 when s is not such a number. */
int mugai_id_short_parse(const char *s, char tail[8 + 1]);

#endif
