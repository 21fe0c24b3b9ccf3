/*
 * limits.c — the limits table and the caps list (values in limits.h) and their
 * lookups.
 *
 * SECURITY: constant data; read by every process.
 */
#include "limits.h"

#include <string.h>

const limit_info_t limit_table[LIM__COUNT] = {
#define MUGAI_LIMIT_ROW(id, name, def, min, max, unit, why) \
	[LIM_##id] = { name, def, min, max, unit, why },
	MUGAI_LIMITS(MUGAI_LIMIT_ROW)
#undef MUGAI_LIMIT_ROW
};

const cap_info_t cap_table[] = {
#define MUGAI_CAP_ROW(name, val, from, why) { #name, (val), #val, from, why },
	MUGAI_CAPS(MUGAI_CAP_ROW)
#undef MUGAI_CAP_ROW
};
const int cap_count = (int)(sizeof(cap_table) / sizeof(cap_table[0]));

void limits_default(limits_t *l)
{
	for (int i = 0; i < LIM__COUNT; i++)
		l->v[i] = limit_table[i].def;
}

int limit_find(const char *name)
{
	for (int i = 0; i < LIM__COUNT; i++)
		if (strcmp(limit_table[i].name, name) == 0)
			return i;
	return -1;
}
