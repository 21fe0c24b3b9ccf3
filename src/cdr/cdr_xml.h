/*
 * cdr_xml.h — safe XML parse/serialize helpers for the package formats
 * (internal to cdr; see xml.c).
 *
 * SECURITY: see xml.c (no DTD, no entities, no network).
 */
#ifndef MUGAI_CDR_XML_H
#define MUGAI_CDR_XML_H

#include <libxml/tree.h>
#include "cdr/cdr_int.h"

/* Parse; NULL when it does not parse, is empty or has a DTD (then res is
 * blocked with a reason, unless quiet_fail). */
xmlDocPtr cdr_xml_parse(const unsigned char *in, size_t len, const char *why_name,
			cdr_result_t *res, bool quiet_fail);
/* Serialize as UTF-8 into a malloc'd buffer. */
int cdr_xml_dump(xmlDocPtr doc, unsigned char **out, size_t *len) MUGAI_WUR;
/* Element with this local name? */
bool cdr_xml_is(xmlNodePtr n, const char *local);
/* Namespace URI of an element ("" when none). */
const char *cdr_xml_ns(xmlNodePtr n);
/* Replace an element by its children / remove it with its children. */
void cdr_xml_unwrap(xmlNodePtr n);
void cdr_xml_remove(xmlNodePtr n);

/* Walk elements depth-first. cb returns 0 to descend, 1 when it removed or
 * replaced the node (do not descend), -1 to stop with an error. */
typedef int (*cdr_xml_cb_t)(xmlNodePtr n, void *arg);
int cdr_xml_walk(xmlDocPtr doc, cdr_xml_cb_t cb, void *arg) MUGAI_WUR;
/* Walk the children of n (for a cb that unwraps n: walk first, then unwrap). */
int cdr_xml_walk_children(xmlNodePtr n, cdr_xml_cb_t cb, void *arg) MUGAI_WUR;

#endif
