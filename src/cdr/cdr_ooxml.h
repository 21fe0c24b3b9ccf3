/*
 * cdr_ooxml.h — the OOXML allowlists (ooxml_allow.c), used by ooxml.c.
 *
 * SECURITY: see ooxml_allow.c (constant tables).
 */
#ifndef MUGAI_CDR_OOXML_H
#define MUGAI_CDR_OOXML_H

#include <stdbool.h>

/* Document kinds, as bits so one row can serve several. */
enum { OX_WORD = 1, OX_SHEET = 2, OX_SLIDE = 4, OX_ALL = 7 };

/* Is a part of this content type kept in a document of this kind? */
bool cdr_ooxml_ct_allowed(const char *ct, unsigned kind);
/* Is a relationship of this type kept (Strict URIs are mapped first)? */
bool cdr_ooxml_rel_allowed(const char *type, unsigned kind);
/* Is this Word field type (upper case) free of external effect? */
bool cdr_ooxml_field_allowed(const char *word);

#endif
