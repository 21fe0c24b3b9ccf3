/*
 * fuzz_cdr_ooxml.c — libFuzzer target for OOXML positive selection (the
 * part/relationship allowlists, field joining, formulas, URL attributes)
 * without spending the fuzzer's effort on the zip layer: the input is
 * wrapped in a valid package built here.
 *
 * Input: byte 0 picks the kind (docx, xlsx, pptx); the rest is split at
 * NUL bytes into up to four parts: the main part, its relationships, a
 * second part (settings.xml / sheet1.xml / slide1.xml) and, when not
 * empty, a [Content_Types].xml replacing the built-in one. Empty parts get
 * a default (relationships to the second part).
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

#include "cdr/cdr_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define R "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define CT "application/vnd.openxmlformats-officedocument."

typedef struct kind {
	const char *name, *main, *rels, *second, *second_rel, *types;
} kind_t;

static const kind_t kinds[] = {
	{ "f.docx", "word/document.xml", "word/_rels/document.xml.rels", "word/settings.xml",
	  R "settings\" Target=\"settings.xml",
	  "<Override PartName=\"/word/document.xml\" ContentType=\"" CT "wordprocessingml.document.main+xml\"/>"
	  "<Override PartName=\"/word/settings.xml\" ContentType=\"" CT "wordprocessingml.settings+xml\"/>" },
	{ "f.xlsx", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml",
	  R "worksheet\" Target=\"worksheets/sheet1.xml",
	  "<Override PartName=\"/xl/workbook.xml\" ContentType=\"" CT "spreadsheetml.sheet.main+xml\"/>"
	  "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"" CT "spreadsheetml.worksheet+xml\"/>" },
	{ "f.pptx", "ppt/presentation.xml", "ppt/_rels/presentation.xml.rels", "ppt/slides/slide1.xml",
	  R "slide\" Target=\"slides/slide1.xml",
	  "<Override PartName=\"/ppt/presentation.xml\" ContentType=\"" CT "presentationml.presentation.main+xml\"/>"
	  "<Override PartName=\"/ppt/slides/slide1.xml\" ContentType=\"" CT "presentationml.slide+xml\"/>" },
};

static void put(cdr_zentry_t *e, const char *name, const void *p, size_t n)
{
	e->name = strdup(name);
	e->data = malloc(n ? n : 1);
	if (!e->name || !e->data)
		abort();
	memcpy(e->data, p, n);
	e->len = n;
	e->keep = true;
}

static void puts_(cdr_zentry_t *e, const char *name, const char *s)
{
	put(e, name, s, strlen(s));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const unsigned char *part[4] = { 0 };
	size_t plen[4] = { 0 }, np = 0;
	cdr_zentry_t ents[6];
	cdr_zip_t z = { ents, 0 };
	char buf[2048];
	const kind_t *k;
	buf_t out;

	if (size < 1)
		return 0;
	k = &kinds[data[0] % 3];
	for (size_t i = 1, start = 1; i <= size && np < 4; i++)
		if (i == size || (data[i] == 0 && np < 3)) {
			part[np] = data + start, plen[np++] = i - start;
			start = i + 1;
		}
	if (plen[3])
		put(&ents[z.n++], "[Content_Types].xml", part[3], plen[3]);
	else {
		snprintf(buf, sizeof(buf),
			 "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
			 "content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-"
			 "package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>%s"
			 "</Types>", k->types);
		puts_(&ents[z.n++], "[Content_Types].xml", buf);
	}
	snprintf(buf, sizeof(buf),
		 "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		 "<Relationship Id=\"rId1\" Type=\"" R "officeDocument\" Target=\"%s\"/></Relationships>", k->main);
	puts_(&ents[z.n++], "_rels/.rels", buf);
	put(&ents[z.n++], k->main, part[0] ? part[0] : (const unsigned char *)"", plen[0]);
	if (plen[1])
		put(&ents[z.n++], k->rels, part[1], plen[1]);
	else {
		snprintf(buf, sizeof(buf),
			 "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
			 "<Relationship Id=\"rId1\" Type=\"%s\"/></Relationships>", k->second_rel);
		puts_(&ents[z.n++], k->rels, buf);
	}
	put(&ents[z.n++], k->second, part[2] ? part[2] : (const unsigned char *)"", plen[2]);
	buf_init(&out, 64u << 20);
	if (cdr_zip_write(&z, NULL, &out) < 0)
		abort();
	fuzz_one(k->name, (const unsigned char *)out.data, out.len, CDR_MODE_DEFAULT);
	buf_free(&out);
	for (size_t i = 0; i < z.n; i++) {
		free(ents[i].name);
		free(ents[i].data);
	}
	return 0;
}
