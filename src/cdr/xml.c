/*
 * xml.c — safe XML parsing and re-serialization for the package formats
 * (ooxml.c, odf.c), over libxml2.
 *
 * Parsing is from memory with XML_PARSE_NONET and without XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR or XML_PARSE_HUGE: no network, no
 * external or internal entity expansion, libxml2's default depth and size
 * limits. A document that declares a DTD at all is refused (OOXML and ODF
 * never need one; a DTD is how entity bombs and XXE arrive). Output is
 * serialized from the parsed tree, never copied from the input.
 *
 * Specs: XML 1.0 (5th ed.), Namespaces in XML 1.0.
 *
 * SECURITY: runs in the sanitizer worker; opens nothing (libxml2's I/O
 * callbacks are never reached: no DTD, no XInclude, NONET). Limit:
 * xml_part_max.
 */
#include "cdr/cdr_xml.h"

#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>

static void xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

xmlDocPtr cdr_xml_parse(const unsigned char *in, size_t len, const char *why_name,
			cdr_result_t *res, bool quiet_fail)
{
	xmlDocPtr doc;

	if (len > (size_t)INT32_MAX) {
		if (!quiet_fail)
			cdr_block(res, "limit:xml_part_max: %s", why_name);
		return NULL;
	}
	if (memmem(in, len, "<!DOCTYPE", 9) || memmem(in, len, "<!ENTITY", 8)) {
		if (!quiet_fail)
			cdr_block(res, "xml-dtd: XML part %s declares a DTD", why_name);
		return NULL; /* refused before libxml2 sees it */
	}
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	doc = xmlReadMemory((const char *)in, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc && (doc->intSubset || doc->extSubset)) {
		xmlFreeDoc(doc);
		if (!quiet_fail)
			cdr_block(res, "xml-dtd: XML part %s declares a DTD", why_name);
		return NULL;
	}
	if (!doc && !quiet_fail)
		cdr_block(res, "broken: XML part %s does not parse", why_name);
	if (doc && !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		doc = NULL;
		if (!quiet_fail)
			cdr_block(res, "broken: XML part %s is empty", why_name);
	}
	return doc;
}

int cdr_xml_dump(xmlDocPtr doc, unsigned char **out, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;

	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (!mem || n < 0)
		return -1;
	*out = (unsigned char *)mem; /* xmlMalloc is malloc by default */
	*len = (size_t)n;
	return 0;
}

bool cdr_xml_is(xmlNodePtr n, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

const char *cdr_xml_ns(xmlNodePtr n)
{
	return n && n->ns && n->ns->href ? (const char *)n->ns->href : "";
}

void cdr_xml_unwrap(xmlNodePtr n)
{
	xmlNodePtr c = n->children, next;

	for (; c; c = next) {
		next = c->next;
		xmlUnlinkNode(c);
		xmlAddPrevSibling(n, c);
	}
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

void cdr_xml_remove(xmlNodePtr n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* Depth-first walk; cb may unlink the node it is given (return 1) but must
 * not touch siblings. */
static int walk(xmlNodePtr n, cdr_xml_cb_t cb, void *arg, int depth)
{
	xmlNodePtr next;
	int r;

	for (; n; n = next) {
		next = n->next;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		r = cb(n, arg);
		if (r < 0)
			return -1;
		if (r == 0 && depth < CDR_XML_DEPTH_MAX && walk(n->children, cb, arg, depth + 1) < 0)
			return -1;
	}
	return 0;
}

int cdr_xml_walk(xmlDocPtr doc, cdr_xml_cb_t cb, void *arg)
{
	return walk(xmlDocGetRootElement(doc), cb, arg, 0);
}

int cdr_xml_walk_children(xmlNodePtr n, cdr_xml_cb_t cb, void *arg)
{
	return walk(n->children, cb, arg, 1);
}
