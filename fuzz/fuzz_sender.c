/*
 * fuzz_sender.c — libFuzzer target for the sender-warning checks
 * (src/mail/sender.c): the Authentication-Results reader and the
 * look-alike, display-name and fold functions, on sender bytes. The first
 * byte picks the own domain's length from the rest. Checks: only the three
 * known bits come back; an untrusted authserv-id gives none; a domain is
 * never both our own and a look-alike of it.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mail/report.h"
#include "mail/sender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *own, fold[SENDER_FOLD_MAX + 1];
	unsigned bits;
	size_t split;

	if (size < 1)
		return 0;
	split = data[0] % 32 < size - 1 ? data[0] % 32 : size - 1;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	bits = sender_authres(buf, size - 1, "mx.city.example.lg.jp");
	if (bits & ~(unsigned)(SENDER_W_DMARC | SENDER_W_DKIM | SENDER_W_SPF))
		abort();
	if (sender_authres(buf, size - 1, "") != 0)
		abort();
	own = strndup(buf, split);
	if (own) {
		const char *dom = buf + (split < strlen(buf) ? split : strlen(buf));

		if (*own && sender_domain_is_own(dom, own) && sender_lookalike(dom, own))
			abort();
		(void)sender_name_has(dom, own);
		free(own);
	}
	sender_fold(buf, fold, sizeof(fold));
	if (strlen(fold) > SENDER_FOLD_MAX)
		abort();
	free(buf);
	return 0;
}
