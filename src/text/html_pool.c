/*
 * html_pool.c — the memory gumbo allocates, from a tracked pool with a cap
 * (see html_int.h).
 *
 * Gumbo 0.10.1 (Debian 12): gumbo_destroy_output() recurses once per tree
 * level, so the tree is never destroyed node by node: every allocation is
 * linked into the pool and freed in one sweep. Past the cap the allocator
 * longjmps out of the parser (html_pool_parse returns NULL).
 *
 * SECURITY: runs in the sanitizer worker on hostile HTML; the cap is
 * html_pool_limit(len) = len x HTML_POOL_RATIO + HTML_POOL_SLACK_MIB MiB.
 */
#include "text/html_int.h"

#include <stdlib.h>
#include <string.h>

static void *pool_alloc(void *ud, size_t size)
{
	pool_t *p = ud;
	pool_hdr_t *h = NULL;
	size_t total;

	if (size_add(size, sizeof(*h), &total) == 0 && p->used <= p->max &&
	    total <= p->max - p->used)
		h = malloc(total);
	if (!h) {
		if (p->armed)
			longjmp(p->jb, 1);
		abort();  /* unreachable: only gumbo allocates, always armed */
	}
	h->h.size = total;
	h->h.prev = &p->head;
	h->h.next = p->head.h.next;
	p->head.h.next->h.prev = h;
	p->head.h.next = h;
	p->used += total;
	return h + 1;
}

static void pool_free(void *ud, void *ptr)
{
	pool_t *p = ud;
	pool_hdr_t *h;

	if (!ptr)
		return;
	h = (pool_hdr_t *)ptr - 1;
	h->h.prev->h.next = h->h.next;
	h->h.next->h.prev = h->h.prev;
	p->used -= h->h.size;
	free(h);
}

void html_pool_init(pool_t *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->head.h.prev = p->head.h.next = &p->head;
	p->max = max;
}

void html_pool_release(pool_t *p)
{
	while (p->head.h.next != &p->head)
		pool_free(p, p->head.h.next + 1);
}

/* setjmp lives here so no local of html_to_text is live across longjmp. */
GumboOutput *html_pool_parse(pool_t *p, const char *s, size_t n)
{
	GumboOptions opt = kGumboDefaultOptions;

	opt.allocator = pool_alloc;
	opt.deallocator = pool_free;
	opt.userdata = p;
	opt.max_errors = HTML_ERRORS_MAX;
	if (setjmp(p->jb)) {
		p->armed = false;
		return NULL;
	}
	p->armed = true;
	GumboOutput *o = gumbo_parse_with_options(&opt, s, n);
	p->armed = false;
	return o;
}

size_t html_pool_limit(size_t len)
{
	size_t lim;

	if (size_mul(len, HTML_POOL_RATIO, &lim) < 0 ||
	    size_add(lim, (size_t)HTML_POOL_SLACK_MIB * MiB, &lim) < 0)
		return SIZE_MAX / 2;
	return lim;
}
