/*
 * pdf_rebuild.c — PDF rebuild: walk every object of the (repaired,
 * decrypted) document and keep only allowlisted actions: GoTo (a
 * destination inside the document) and the Named navigation actions
 * (NextPage, PrevPage, FirstPage, LastPage), plus URI with pdf_keep_uri.
 * Every other action (Launch, Thread, SubmitForm, ImportData, GoToR/E/Dp,
 * JavaScript, Rendition, Movie, Sound, RichMediaExecute, unknown types…)
 * is removed wherever it sits, with JavaScript, OpenAction/AA, embedded
 * files and file-attachment/RichMedia/Screen/3D annotations, XFA. Then a
 * new flat page tree, and a new file in one revision (incremental updates
 * collapsed, object streams expanded, unreachable objects dropped, no
 * encryption).
 *
 * Specs: ISO 32000-1 §12.6 (actions), §12.5 (annotations), §7.11.4
 * (embedded files), §7.7.3 (page tree).
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes. Recursion into
 * direct objects is capped (PDF_NEST_MAX); an object that does not load
 * becomes null. Limits: cdr_time_max (every 1024 objects).
 */
#include "cdr/cdr_pdf.h"

#include <string.h>

/* ---- rebuild ------------------------------------------------------------ */

static bool name_in(fz_context *ctx, pdf_obj *n, const char *const *set, size_t cnt)
{
	const char *s;

	if (!pdf_is_name(ctx, n))
		return false;
	s = pdf_to_name(ctx, n);
	for (size_t i = 0; i < cnt; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

/* Every action type of PDF 2.0 §12.6.4 (and Adobe's extensions): a dict
 * whose /S is one of these is an action wherever it is found. */
static const char *const action_types[] = {
	"GoTo", "GoToR", "GoToE", "GoToDp", "Launch", "Thread", "URI", "Sound", "Movie",
	"Hide", "Named", "SubmitForm", "ResetForm", "ImportData", "SetOCGState", "Rendition",
	"Trans", "GoTo3DView", "JavaScript", "RichMediaExecute",
};

/* The allowlist: GoTo (a destination inside this document), the Named
 * navigation actions, and URI when pdf_keep_uri is set. */
static bool action_allowed(pdf_job_t *pj, pdf_obj *d, pdf_obj *s)
{
	static const char *const named[] = { "NextPage", "PrevPage", "FirstPage", "LastPage" };
	fz_context *ctx = pj->ctx;

	if (pdf_name_eq(ctx, s, PDF_NAME(GoTo)))
		return true;
	if (pdf_name_eq(ctx, s, PDF_NAME(Named)))
		return name_in(ctx, pdf_dict_get(ctx, d, PDF_NAME(N)), named, MUGAI_ARRAY_LEN(named));
	return pj->keep_uri && pdf_name_eq(ctx, s, PDF_NAME(URI));
}

/* Is this dict an action we remove? Returns its type (or "unknown") or
 * NULL. in_action: the dict is the value of /A, /Next or /OpenAction, so it
 * is an action whatever its /S says. */
static const char *bad_action(pdf_job_t *pj, pdf_obj *d, bool in_action)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *s = pdf_dict_get(ctx, d, PDF_NAME(S));

	if (!in_action && !pdf_name_eq(ctx, pdf_dict_get(ctx, d, PDF_NAME(Type)), PDF_NAME(Action)) &&
	    !name_in(ctx, s, action_types, MUGAI_ARRAY_LEN(action_types)))
		return NULL;
	if (pdf_dict_len(ctx, d) == 0 || action_allowed(pj, d, s))
		return NULL;
	return pdf_is_name(ctx, s) ? pdf_to_name(ctx, s) : "unknown";
}

/* Is this dict an annotation we remove? Returns its /Subtype or NULL. */
static const char *bad_annot(pdf_job_t *pj, pdf_obj *d)
{
	static const char *const bad[] = {
		"FileAttachment", "RichMedia", "Screen", "Movie", "Sound", "3D",
	};
	pdf_obj *s = pdf_dict_get(pj->ctx, d, PDF_NAME(Subtype));

	return name_in(pj->ctx, s, bad, MUGAI_ARRAY_LEN(bad)) ? pdf_to_name(pj->ctx, s) : NULL;
}

static void empty_dict(fz_context *ctx, pdf_obj *d)
{
	for (int i = pdf_dict_len(ctx, d) - 1; i >= 0; i--)
		pdf_dict_del(ctx, d, pdf_dict_get_key(ctx, d, i));
}

static void note(pdf_job_t *pj, const char *verb, const char *what, const char *tail)
{
	if (cdr_action(pj->res, "%s%s%s", verb, what, tail) < 0)
		pj->oom = true;
}

/* Keys removed wherever they appear. */
static void drop_keys(pdf_job_t *pj, pdf_obj *d)
{
	static const char *const keys[] = {
		"JS", "JavaScript", "AA", "OpenAction", "EmbeddedFiles", "EF", "XFA",
		"RichMediaContent", "RichMediaSettings", "Collection", "AF", "URI",
	};
	fz_context *ctx = pj->ctx;

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(keys); i++) {
		if (i == MUGAI_ARRAY_LEN(keys) - 1 && pj->keep_uri)
			break;
		if (pdf_dict_gets(ctx, d, keys[i])) {
			pdf_dict_dels(ctx, d, keys[i]);
			note(pj, i < 4 || i == MUGAI_ARRAY_LEN(keys) - 1 ? "pdf-action-removed: /" : "pdf-part-removed: /", keys[i], "");
		}
	}
}

static void scrub(pdf_job_t *pj, pdf_obj *o, int depth);

/* Is o (direct or indirect) an action outside the allowlist? */
static const char *bad_action_value(pdf_job_t *pj, pdf_obj *o)
{
	pdf_obj *r = pdf_resolve_indirect(pj->ctx, o);

	return pdf_is_dict(pj->ctx, r) ? bad_action(pj, r, true) : NULL;
}

/* The values of /A and /Next (one action or an array of them) are actions
 * whatever their /S: unknown or unlisted ones are cut off here, also when
 * they are indirect objects shared with other places. */
static void drop_actions(pdf_job_t *pj, pdf_obj *d)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *keys[] = { PDF_NAME(A), PDF_NAME(Next) };
	const char *what;

	for (size_t k = 0; k < MUGAI_ARRAY_LEN(keys); k++) {
		pdf_obj *v = pdf_dict_get(ctx, d, keys[k]);

		if (pdf_is_array(ctx, v)) {
			for (int i = pdf_array_len(ctx, v) - 1; i >= 0; i--)
				if ((what = bad_action_value(pj, pdf_array_get(ctx, v, i))) != NULL) {
					note(pj, "pdf-action-removed: ", what, " action");
					pdf_array_delete(ctx, v, i);
				}
		} else if (v && (what = bad_action_value(pj, v)) != NULL) {
			note(pj, "pdf-action-removed: ", what, " action");
			pdf_dict_del(ctx, d, keys[k]);
		}
	}
}

static void scrub_dict(pdf_job_t *pj, pdf_obj *d, int depth)
{
	fz_context *ctx = pj->ctx;
	const char *what;

	if ((what = bad_action(pj, d, false)) != NULL) {
		note(pj, "pdf-action-removed: ", what, " action");
		empty_dict(ctx, d);
		return;
	}
	if ((what = bad_annot(pj, d)) != NULL) {
		note(pj, "pdf-annotation-removed: ", what, " annotation");
		empty_dict(ctx, d);
		return;
	}
	drop_keys(pj, d);
	drop_actions(pj, d);
	for (int i = 0; i < pdf_dict_len(ctx, d); i++)
		scrub(pj, pdf_dict_get_val(ctx, d, i), depth + 1);
}

/* Scrub a direct object (indirect ones are visited by the object loop). */
static void scrub(pdf_job_t *pj, pdf_obj *o, int depth)
{
	fz_context *ctx = pj->ctx;

	if (!o || pdf_is_indirect(ctx, o))
		return;
	if (depth > PDF_NEST_MAX) {
		pj->too_deep = true;
		return;
	}
	if (pdf_is_dict(ctx, o))
		scrub_dict(pj, o, depth);
	else if (pdf_is_array(ctx, o))
		for (int i = 0; i < pdf_array_len(ctx, o); i++)
			scrub(pj, pdf_array_get(ctx, o, i), depth + 1);
}

/* An embedded file stream keeps no bytes, even if still referenced. */
static void scrub_stream(pdf_job_t *pj, int num, pdf_obj *o)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *ref;
	fz_buffer *empty;

	if (!pdf_name_eq(ctx, pdf_dict_get(ctx, o, PDF_NAME(Type)), PDF_NAME(EmbeddedFile)))
		return;
	note(pj, "pdf-part-removed: ", "EmbeddedFile", " stream");
	ref = pdf_new_indirect(ctx, pj->doc, num, 0);
	empty = fz_new_buffer(ctx, 1);
	fz_try(ctx) {
		pdf_update_stream(ctx, pj->doc, ref, empty, 0);
		empty_dict(ctx, o);
	}
	fz_always(ctx) {
		fz_drop_buffer(ctx, empty);
		pdf_drop_obj(ctx, ref);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Visit object num; an object that does not load becomes null. */
static void scrub_object(pdf_job_t *pj, int num)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *o = NULL;
	volatile bool broken = false;

	fz_var(o);
	fz_try(ctx) {
		o = pdf_load_object(ctx, pj->doc, num);
		if (pdf_is_stream(ctx, o))
			scrub_stream(pj, num, o);
		scrub(pj, o, 0);
	}
	fz_always(ctx)
		pdf_drop_obj(ctx, o);
	fz_catch(ctx)
		broken = true;
	if (broken) {
		fz_try(ctx)
			pdf_update_object(ctx, pj->doc, num, PDF_NULL);
		fz_catch(ctx)
			pj->oom = true;
	}
}

/* Remove emptied annotations from the pages' /Annots arrays. */
static void prune_annots(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;

	for (int p = 0; p < pj->res->pages; p++) {
		pdf_obj *annots = pdf_dict_get(ctx, pdf_lookup_page_obj(ctx, pj->doc, p), PDF_NAME(Annots));

		for (int i = pdf_array_len(ctx, annots) - 1; i >= 0; i--) {
			pdf_obj *a = pdf_array_get(ctx, annots, i);

			if (!pdf_is_dict(ctx, a) || !pdf_dict_get(ctx, a, PDF_NAME(Subtype)))
				pdf_array_delete(ctx, annots, i);
		}
	}
}

static int scrub_all(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;
	int n = pdf_xref_len(ctx, pj->doc);
	volatile int rc = 0;

	for (int i = 1; i < n && !pj->oom; i++) {
		if ((i & 1023) == 0 && cdr_timed_out(pj->job))
			return cdr_block(pj->res, "limit:cdr_time_max");
		scrub_object(pj, i);
	}
	fz_try(ctx) {
		scrub(pj, pdf_trailer(ctx, pj->doc), 0);
		prune_annots(pj);
	}
	fz_catch(ctx)
		rc = cdr_block(pj->res, "broken: PDF structure");
	if (pj->oom)
		return -1;
	if (pj->too_deep)
		return cdr_block(pj->res, "broken: PDF objects nested deeper than %d", PDF_NEST_MAX);
	return rc;
}

/* Keep only streams in a page's /Contents. */
static void fix_contents(fz_context *ctx, pdf_obj *page)
{
	pdf_obj *c = pdf_dict_get(ctx, page, PDF_NAME(Contents));

	if (pdf_is_array(ctx, c)) {
		for (int i = pdf_array_len(ctx, c) - 1; i >= 0; i--)
			if (!pdf_is_stream(ctx, pdf_array_get(ctx, c, i)))
				pdf_array_delete(ctx, c, i);
	} else if (c && !pdf_is_stream(ctx, c)) {
		pdf_dict_del(ctx, page, PDF_NAME(Contents));
	}
}

/* Page i as a page object of its own: inherited items copied in, a page
 * reached twice (a loop or a shared kid) duplicated. */
static pdf_obj *own_page(pdf_job_t *pj, pdf_obj **seen, int i)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *pg = pdf_lookup_page_obj(ctx, pj->doc, i);
	int num = pdf_to_num(ctx, pg);

	for (int k = 0; k < i && num > 0; k++)
		if (pdf_to_num(ctx, seen[k]) == num)
			return pdf_add_object_drop(ctx, pj->doc, pdf_copy_dict(ctx, pg));
	if (num <= 0)
		return pdf_add_object_drop(ctx, pj->doc, pdf_copy_dict(ctx, pg));
	return pdf_new_indirect(ctx, pj->doc, num, 0);
}

/* A new flat page tree: one /Pages node whose kids are the pages in order. */
static void new_page_tree(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;
	int n = pj->res->pages;
	pdf_obj **pg = fz_malloc_array(ctx, n, pdf_obj *);
	pdf_obj *kids = NULL, *root = NULL;
	int got = 0;

	fz_var(kids);
	fz_var(root);
	fz_var(got);
	fz_try(ctx) {
		while (got < n) {
			pg[got] = own_page(pj, pg, got);
			got++; /* owned from here, even if the next call throws */
			pdf_flatten_inheritable_page_items(ctx, pg[got - 1]);
		}
		root = pdf_add_new_dict(ctx, pj->doc, 3);
		kids = pdf_dict_put_array(ctx, root, PDF_NAME(Kids), n);
		pdf_dict_put(ctx, root, PDF_NAME(Type), PDF_NAME(Pages));
		pdf_dict_put_int(ctx, root, PDF_NAME(Count), n);
		for (int i = 0; i < n; i++) {
			pdf_dict_put(ctx, pg[i], PDF_NAME(Parent), root);
			fix_contents(ctx, pg[i]);
			pdf_array_push(ctx, kids, pg[i]);
		}
		pdf_dict_put(ctx, pdf_dict_get(ctx, pdf_trailer(ctx, pj->doc), PDF_NAME(Root)),
			     PDF_NAME(Pages), root);
	}
	fz_always(ctx) {
		for (int i = 0; i < got; i++)
			pdf_drop_obj(ctx, pg[i]);
		fz_free(ctx, pg);
		pdf_drop_obj(ctx, root);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

int cdr_pdf_rebuild(pdf_job_t *pj)
{
	volatile bool rebuilt = false; /* set inside fz_try: volatile across its longjmp */

	pj->keep_uri = cfg_int(pj->job->cfg, CFG_PDF_KEEP_URI) != 0;
	if (pdf_was_repaired(pj->ctx, pj->doc) &&
	    cdr_action(pj->res, "pdf-repaired: broken cross-reference table") < 0)
		return -1;
	if (pdf_count_versions(pj->ctx, pj->doc) > 1 &&
	    cdr_action(pj->res, "pdf-versions-collapsed: %d incremental updates", pdf_count_versions(pj->ctx, pj->doc) - 1) < 0)
		return -1;
	if (scrub_all(pj) < 0 || !cdr_pending(pj->res))
		return pj->oom ? -1 : 0;
	fz_try(pj->ctx) {
		new_page_tree(pj);
		rebuilt = true;
	}
	fz_catch(pj->ctx)
		rebuilt = false; /* MuPDF's error is not the sender's to see */
	if (!rebuilt)
		return cdr_block(pj->res, "broken: PDF page tree cannot be rebuilt");
	if (cdr_pdf_save(pj->ctx, pj->doc, 2, &pj->res->out) < 0)
		return cdr_block(pj->res, "internal-error: PDF could not be written");
	pj->res->mode = "rebuild";
	return cdr_done(pj->res, "pdf");
}
