/*
 * sender.h — sender warnings (issue #11): a From domain that imitates one
 * of own_domains (look-alike by edit distance, confusable characters after
 * folding, an own domain as the prefix of another, a punycode label in
 * place of an own label), an own domain in the display name of outside
 * mail, and dmarc/dkim/spf "fail" in an Authentication-Results header whose
 * authserv-id is authserv_id. The pure functions are fuzzed
 * (fuzz/fuzz_sender.c) and unit-tested (tests/unit/test_sender.c).
 *
 * Specs: RFC 8601 (Authentication-Results), UTS #39 (confusables; a small
 * fixed subset: fullwidth ASCII, Cyrillic and Greek look-alikes of Latin
 * letters, 0/o 1/l i/l rn/m vv/w).
 *
 * SECURITY: every input is sender text. Only "fail" results count, so a
 * forged Authentication-Results can add a warning, never remove one.
 * Bounded: folded strings are cut at SENDER_FOLD_MAX.
 */
#ifndef MUGAI_MAIL_SENDER_H
#define MUGAI_MAIL_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include "common/limits.h"

/* SENDER_W_DMARC | SENDER_W_DKIM | SENDER_W_SPF for the "fail" results of
 * one Authentication-Results value, or 0 when its authserv-id is not
 * authserv_id (case-insensitive; an empty authserv_id trusts none). */
unsigned sender_authres(const char *value, size_t len, const char *authserv_id);

/* 1 when domain is own or one of its subdomains (case-insensitive). */
bool sender_domain_is_own(const char *domain, const char *own);
/* 1 when domain (not own) imitates own. */
bool sender_lookalike(const char *domain, const char *own);
/* 1 when the display name holds own (after folding). */
bool sender_name_has(const char *name, const char *own);

/* The fold used by the two above: lower-case, confusables mapped, into out
 * (NUL-terminated, cut at cap - 1). */
void sender_fold(const char *in, char *out, size_t cap);

#endif
