/*
 * zip.c — zip archives: a strict structural check, a capped reader and a
 * writer shared with ooxml.c and odf.c; and zip CDR itself, which sanitizes
 * every entry recursively by the same rules (cdr_run, one level deeper) and
 * writes a new archive with normalized UTF-8 names.
 *
 * Before libzip sees the bytes, our own walk of the central directory
 * checks: one end record (padding after it ignored and reported), no
 * multi-disk and no zip64, no encryption unless the job carries PPAP
 * password candidates (then ZipCrypto and WinZip AES, each candidate tried
 * until one reads every entry with its CRC or AES authentication; none:
 * "ppap-wrong-password"; without candidates: "encrypted"), store/deflate only, every local header matching its central entry (name,
 * method, flags, sizes, CRC), no two entries overlapping, zip_entries_max,
 * zip_ratio_max per entry and the shared zip_total_max budget. libzip then
 * reads the archive (padding cut off) from a buffer source, and every entry
 * is read to exactly its declared size (CRC checked by libzip). Names: UTF-8 when flagged or valid, otherwise decoded
 * as CP932; "..", "." and absolute/drive prefixes are dropped; an output
 * name is made Windows-safe (name.c: devices "con.txt" → "_con.txt",
 * trailing dots and spaces, ADS ':') and unique ("a (2).png").
 *
 * Specs: PKWARE APPNOTE.TXT 6.3.x §4.3 (structure), §4.4.4 (flags, bit 0
 * encryption, bit 3 data descriptor, bit 11 UTF-8), §6.1 (traditional
 * PKWARE encryption); WinZip AE-1/AE-2 (method 99, extra field 0x9901).
 *
 * SECURITY: runs in the sanitizer worker; reads only from memory. Limits:
 * zip_depth_max, zip_entries_max, zip_total_max, zip_ratio_max (checked on
 * the declared sizes before any password is tried), ppap_candidates_max.
 * A password is only handed to libzip; it never reaches a result or action.
 */
#include "cdr/cdr_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "common/utf8.h"

typedef struct cd_ent {
	const unsigned char *name;
	size_t nlen;
	unsigned flags, method;
	unsigned long crc;
	unsigned aes_method; /* WinZip AES: the real method from extra 0x9901 */
	size_t csize, usize, off, end;
} cd_ent_t;

static unsigned rd16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned long rd32(const unsigned char *p)
{
	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/* The end of central directory record: the one whose comment ends the
 * file exactly, else the last one whose comment fits. Bytes after it
 * (padding added by transfer and mail tools, which unzip and Office
 * accept) are then ignored: they are never read nor copied, and the output
 * is a new archive. Data before the archive (a self-extractor, a
 * polyglot) is not tolerated: a zip starts with a local header (sniff.c)
 * and every offset is checked against the file. */
static long find_eocd(const unsigned char *in, size_t len)
{
	size_t lo = len > 22 + 65535 ? len - 22 - 65535 : 0;
	long last = -1;

	if (len < 22)
		return -1;
	for (size_t i = len - 22 + 1; i-- > lo;) {
		if (memcmp(in + i, "PK\x05\x06", 4) != 0 || i + 22 + rd16(in + i + 20) > len)
			continue;
		if (i + 22 + rd16(in + i + 20) == len)
			return (long)i;
		if (last < 0)
			last = (long)i;
	}
	return last;
}

/* Where the archive ends (the end record and its comment); eo from find_eocd. */
static size_t eocd_end(const unsigned char *in, long eo)
{
	return (size_t)eo + 22 + rd16(in + eo + 20);
}

/* The compression method in a WinZip AES extra field (0x9901: version,
 * "AE", strength, method), or 0xffff when there is none. */
static unsigned aes_method(const unsigned char *x, size_t n)
{
	for (size_t i = 0; i + 4 <= n;) {
		unsigned id = rd16(x + i), sz = rd16(x + i + 2);

		if (i + 4 + sz > n)
			break;
		if (id == 0x9901 && sz >= 7)
			return rd16(x + i + 4 + 5);
		i += 4 + sz;
	}
	return 0xffff;
}

/* Parse one central entry at *pos; check its local header. */
static int parse_cd_ent(const unsigned char *in, size_t cd_end, size_t *pos, cd_ent_t *e,
			cdr_result_t *res)
{
	const unsigned char *p = in + *pos, *l;
	size_t nlen, elen, clen;

	if (*pos + 46 > cd_end || memcmp(p, "PK\x01\x02", 4) != 0)
		return cdr_block(res, "broken: zip broken central directory");
	e->flags = rd16(p + 8);
	e->method = rd16(p + 10);
	e->crc = rd32(p + 16);
	e->csize = rd32(p + 20);
	e->usize = rd32(p + 24);
	nlen = rd16(p + 28), elen = rd16(p + 30), clen = rd16(p + 32);
	e->off = rd32(p + 42);
	e->name = p + 46;
	e->nlen = nlen;
	*pos += 46 + nlen + elen + clen;
	if (*pos > cd_end)
		return cdr_block(res, "broken: zip broken central directory");
	e->aes_method = aes_method(p + 46 + nlen, elen);
	if (e->csize == 0xffffffffu || e->usize == 0xffffffffu || e->off == 0xffffffffu)
		return cdr_block(res, "unsupported-type: zip64 entries");
	if (e->off + 30 > cd_end)
		return cdr_block(res, "broken: zip local header outside the archive");
	l = in + e->off;
	if (memcmp(l, "PK\x03\x04", 4) != 0 || rd16(l + 26) != nlen ||
	    memcmp(l + 30, e->name, nlen) != 0 || rd16(l + 8) != e->method ||
	    (rd16(l + 6) & 1) != (e->flags & 1))
		return cdr_block(res, "broken: zip local header disagrees with central directory");
	if (!(rd16(l + 6) & 8) && (rd32(l + 18) != e->csize || rd32(l + 22) != e->usize ||
				   rd32(l + 14) != e->crc))
		return cdr_block(res, "broken: zip local header disagrees with central directory");
	e->end = e->off + 30 + nlen + rd16(l + 28) + e->csize;
	return 0;
}

static int cmp_off(const void *a, const void *b)
{
	const cd_ent_t *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Per-entry checks: method, ratio, budget, then encryption. */
static int check_ent(cdr_job_t *job, const cd_ent_t *e, cdr_result_t *res)
{
	bool enc = e->flags & 1;
	unsigned method = enc && e->method == 99 ? e->aes_method : e->method;

	if (method != 0 && method != 8)
		return cdr_block(res, "unsupported-type: zip compression method %u", method);
	if (method == 0 && !enc && e->csize != e->usize)
		return cdr_block(res, "broken: zip stored entry with differing sizes");
	if (e->usize > RATIO_FLOOR &&
	    (long long)e->usize > (long long)e->csize * lim(job->lim, LIM_ZIP_RATIO))
		return cdr_block(res, "limit:zip_ratio_max: entry %zu:%zu", e->usize, e->csize);
	if ((long long)e->usize > job->zip_budget)
		return cdr_block(res, "limit:zip_total_max");
	/* after the limits: a bomb is a limit, not a zip waiting for its password */
	if (enc && !job->n_pw)
		return cdr_block(res, "encrypted");
	job->zip_budget -= (long long)e->usize;
	return 0;
}

/* Walk the central directory; fills *ents (caller frees). 0 with the
 * structure checked or res blocked, -1 on an internal failure. */
static int walk_cd(cdr_job_t *job, const unsigned char *in, size_t len, cd_ent_t **ents,
		   size_t *n, cdr_result_t *res)
{
	long eo = find_eocd(in, len);
	const unsigned char *p;
	size_t cnt, cd_size, cd_off, pos;

	if (eo < 0)
		return cdr_block(res, "broken: zip no end of central directory");
	p = in + eo;
	cnt = rd16(p + 10), cd_size = rd32(p + 12), cd_off = rd32(p + 16);
	if (rd16(p + 4) || rd16(p + 6) || rd16(p + 8) != cnt)
		return cdr_block(res, "unsupported-type: multi-disk zip archive");
	if (cnt == 0xffff || cd_off == 0xffffffffu || cd_off + cd_size > (size_t)eo)
		return cdr_block(res, "broken: zip zip64 or broken end record");
	if ((long long)cnt > lim(job->lim, LIM_ZIP_ENTRIES))
		return cdr_block(res, "limit:zip_entries_max: %zu entries", cnt);
	*ents = calloc(cnt ? cnt : 1, sizeof(**ents));
	if (!*ents)
		return -1;
	pos = cd_off;
	for (*n = 0; *n < cnt && cdr_pending(res); (*n)++)
		if (parse_cd_ent(in, cd_off + cd_size, &pos, &(*ents)[*n], res) < 0 ||
		    (cdr_pending(res) && check_ent(job, &(*ents)[*n], res) < 0))
			return -1;
	return 0;
}

static int check_overlap(cd_ent_t *ents, size_t n, size_t cd_off, cdr_result_t *res)
{
	qsort(ents, n, sizeof(*ents), cmp_off);
	for (size_t i = 0; i < n; i++)
		if ((i + 1 < n && ents[i].end > ents[i + 1].off) || ents[i].end > cd_off)
			return cdr_block(res, "broken: zip overlapping entries");
	return 0;
}

/* Check the structure: 0 (res blocked when it fails), -1 internal. */
static int check_structure(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	cd_ent_t *ents = NULL;
	size_t n = 0;
	int rc = walk_cd(job, in, len, &ents, &n, res);

	if (rc == 0 && cdr_pending(res))
		rc = check_overlap(ents, n, rd32(in + find_eocd(in, len) + 16), res);
	free(ents);
	return rc;
}

/* Controls, and the characters Windows refuses in names: ':' would make
 * "evil.exe:readme.txt" an alternate data stream of evil.exe on NTFS. */
static bool bad_name_char(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f || strchr(":*?\"<>|", c) != NULL;
}

/* Drop "", ".", "..", drive letters, controls and ':' (ADS); join with '/'. */
static int normalize(const char *raw, buf_t *out)
{
	const char *p = raw;

	while (*p) {
		size_t n = strcspn(p, "/\\");

		if (!(n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
		      (n == 2 && p[1] == ':' && out->len == 0))) {
			if (out->len && buf_putc(out, '/') < 0)
				return -1;
			for (size_t i = 0; i < n; i++)
				if (buf_putc(out, bad_name_char(p[i]) ? '_' : p[i]) < 0)
					return -1;
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* Name of entry i as normalized UTF-8 (malloc'd), or NULL on OOM. */
static char *entry_name(zip_t *za, zip_uint64_t i, cdr_result_t *res)
{
	const char *raw = zip_get_name(za, i, ZIP_FL_ENC_RAW);
	buf_t dec, norm;
	char *s = NULL;

	buf_init(&dec, ZIP_NAME_TEXT_MAX);
	buf_init(&norm, ZIP_NAME_TEXT_MAX);
	if (!raw)
		raw = "";
	if (cdr_name_to_utf8((const unsigned char *)raw, strlen(raw), &dec) < 0 ||
	    normalize(dec.data ? dec.data : "", &norm) < 0)
		goto out;
	if (strcmp(norm.data ? norm.data : "", raw) != 0 &&
	    cdr_action(res, "entry-renamed: %s", norm.data ? norm.data : "") < 0)
		goto out;
	s = buf_steal(&norm, NULL);
	if (!s)
		s = strdup("");
out:
	buf_free(&dec);
	buf_free(&norm);
	return s;
}

/* WinZip AE-2 entries carry CRC 0 (the HMAC authenticates them instead),
 * and libzip 1.7.3 (Debian 12) still compares the CRC at the end: every
 * 7-Zip or WinZip AES entry then fails with ZIP_ER_CRC after all its bytes
 * were read. That one error is ignored for an AES entry whose CRC is 0.
 * A wrong password is still refused: the 16-bit password verifier first,
 * then (deflate) a stream that must decode to exactly the declared size;
 * a stored entry that passes the verifier with a wrong password (1 in
 * 65536) would yield noise, which CDR then treats as it treats any input. */
static bool ae2_crc_quirk(const zip_stat_t *st, zip_file_t *f)
{
	bool aes = (st->valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		   (st->encryption_method == ZIP_EM_AES_128 || st->encryption_method == ZIP_EM_AES_192 ||
		    st->encryption_method == ZIP_EM_AES_256);

	return aes && (st->valid & ZIP_STAT_CRC) && st->crc == 0 &&
	       zip_error_code_zip(zip_file_get_error(f)) == ZIP_ER_CRC;
}

/* Read entry i to exactly its declared size (pw: the candidate, or NULL). */
static int read_entry(zip_t *za, zip_uint64_t i, const char *pw, cdr_zentry_t *e)
{
	zip_stat_t st;
	zip_file_t *f = NULL;
	zip_int64_t got;
	char extra;
	int rc = -1;

	if (zip_stat_index(za, i, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
		goto out;
	e->len = (size_t)st.size;
	e->data = malloc(e->len ? e->len : 1);
	f = pw ? zip_fopen_index_encrypted(za, i, 0, pw) : zip_fopen_index(za, i, 0);
	if (!e->data || !f)
		goto out;
	got = e->len ? zip_fread(f, e->data, e->len) : 0;
	if (got < 0 || (size_t)got != e->len)
		goto out;
	if (zip_fread(f, &extra, 1) != 0 && !ae2_crc_quirk(&st, f))
		goto out;
	rc = 0;
out:
	if (f)
		zip_fclose(f);
	return rc;
}

static int read_all(zip_t *za, const char *pw, cdr_zip_t *z, cdr_result_t *res)
{
	zip_int64_t n = zip_get_num_entries(za, 0);

	z->e = calloc(n > 0 ? (size_t)n : 1, sizeof(*z->e));
	if (!z->e)
		return -1;
	for (zip_int64_t i = 0; i < n; i++) {
		cdr_zentry_t *e = &z->e[z->n];

		e->name = entry_name(za, (zip_uint64_t)i, res);
		if (!e->name)
			return -1;
		z->n++;
		if (read_entry(za, (zip_uint64_t)i, pw, e) < 0)
			return cdr_block(res, "broken: zip entry %s cannot be read", e->name);
		for (size_t k = 0; k + 1 < z->n; k++)
			if (*e->name && strcmp(z->e[k].name, e->name) == 0)
				return cdr_block(res, "broken: zip duplicate entry name %s", e->name);
	}
	return 0;
}

static bool any_encrypted(zip_t *za)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	zip_stat_t st;

	for (zip_int64_t i = 0; i < n; i++)
		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) == 0 &&
		    (st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
			return true;
	return false;
}

/* Does pw read every encrypted entry to its end (CRC or AES
 * authentication checked by libzip)? 1 yes, 0 no, -1 out of memory. */
static int password_reads(zip_t *za, const char *pw)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	int ok = 1;

	for (zip_int64_t i = 0; ok == 1 && i < n; i++) {
		zip_stat_t st;
		cdr_zentry_t e = { 0 };

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0)
			return 0;
		if (!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) || st.encryption_method == ZIP_EM_NONE)
			continue;
		if (read_entry(za, (zip_uint64_t)i, pw, &e) < 0)
			ok = e.data || !e.len ? 0 : -1;
		if (e.data)
			explicit_bzero(e.data, e.len);
		free(e.data);
	}
	return ok;
}

/* PPAP: each candidate (at most ppap_candidates_max) until one reads every
 * encrypted entry; a wrong one (or a ZipCrypto false accept, caught by the
 * CRC) moves on to the next. Then the archive is read with it as usual. */
static int read_with_password(cdr_job_t *job, zip_t *za, cdr_zip_t *z, cdr_result_t *res)
{
	size_t n = job->n_pw, max = (size_t)lim(job->lim, LIM_PPAP_CANDIDATES);

	if (!any_encrypted(za))
		return read_all(za, NULL, z, res);
	for (size_t k = 0; k < n && k < max; k++) {
		int ok = password_reads(za, job->pw[k]);

		if (ok < 0)
			return -1;
		if (ok == 0)
			continue;
		if (cdr_action(res, "zip-decrypted") < 0)
			return -1;
		return read_all(za, job->pw[k], z, res);
	}
	return cdr_block(res, "ppap-wrong-password");
}

int cdr_zip_read(cdr_job_t *job, const unsigned char *in, size_t len, cdr_zip_t *z,
		 cdr_result_t *res)
{
	zip_source_t *src = NULL;
	zip_t *za = NULL;
	int rc;

	memset(z, 0, sizeof(*z));
	if (check_structure(job, in, len, res) < 0 || !cdr_pending(res))
		return cdr_pending(res) ? -1 : 0;
	if (eocd_end(in, find_eocd(in, len)) < len &&
	    cdr_action(res, "zip-padding-ignored: %zu bytes after the end record",
		       len - eocd_end(in, find_eocd(in, len))) < 0)
		return -1;
	len = eocd_end(in, find_eocd(in, len)); /* libzip sees the archive only */
	src = zip_source_buffer_create(in, len, 0, NULL);
	if (!src)
		return -1;
	/* No ZIP_CHECKCONS: it also compares the local header's "version needed"
	 * and modification time with the central entry, which Office and unzip
	 * ignore (valid xlsx files from some writers differ there). What matters
	 * (name, method, encryption, sizes, CRC, overlaps) check_structure did. */
	za = zip_open_from_source(src, ZIP_RDONLY, NULL);
	if (!za) {
		zip_source_free(src);
		return cdr_block(res, "broken: zip archive cannot be opened");
	}
	rc = job->n_pw ? read_with_password(job, za, z, res) : read_all(za, NULL, z, res);
	zip_discard(za);
	return rc; /* 0: read (still pending) or blocked */
}

void cdr_zip_free(cdr_zip_t *z)
{
	for (size_t i = 0; i < z->n; i++) {
		free(z->e[i].name);
		free(z->e[i].data);
	}
	free(z->e);
	memset(z, 0, sizeof(*z));
}

cdr_zentry_t *cdr_zip_find(cdr_zip_t *z, const char *name)
{
	for (size_t i = 0; i < z->n; i++)
		if (strcmp(z->e[i].name, name) == 0)
			return &z->e[i];
	return NULL;
}

/* ---- crypto warm-up (cdr_init) ------------------------------------------ */

int cdr_init(void)
{
	static const char pw[] = "warm-up", text[] = "x";
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, NULL), *f = NULL;
	zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, NULL) : NULL;
	zip_file_t *zf;
	char got[2];
	int rc = -1;

	if (!za)
		goto out;
	zip_source_keep(src);
	f = zip_source_buffer(za, text, 1, 0);
	if (!f || zip_file_add(za, "w", f, 0) != 0) {
		zip_source_free(f);
		zip_discard(za);
		goto out;
	}
	if (zip_file_set_encryption(za, 0, ZIP_EM_AES_256, pw) < 0 || zip_close(za) < 0) {
		zip_discard(za);
		goto out;
	}
	za = zip_open_from_source(src, ZIP_RDONLY, NULL);
	if (!za)
		goto out;
	zip_source_keep(src);
	zf = zip_fopen_index_encrypted(za, 0, 0, pw);
	rc = zf && zip_fread(zf, got, 2) == 1 && got[0] == 'x' ? 0 : -1;
	if (zf)
		zip_fclose(zf);
	zip_discard(za);
out:
	zip_source_free(src);
	return rc;
}

/* ---- writer ------------------------------------------------------------- */

static int add_entry(zip_t *za, const cdr_zentry_t *e, bool stored)
{
	zip_source_t *s = zip_source_buffer(za, e->data, e->len, 0);
	zip_int64_t idx;

	if (!s)
		return -1;
	idx = zip_file_add(za, e->name, s, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(s);
		return -1;
	}
	if (zip_set_file_compression(za, (zip_uint64_t)idx, stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) < 0)
		return -1;
	return zip_file_set_mtime(za, (zip_uint64_t)idx, 315532800 + 86400, 0);
}

static int add_entries(zip_t *za, const cdr_zip_t *z, const char *stored_first)
{
	const cdr_zentry_t *first = NULL;

	for (size_t i = 0; stored_first && i < z->n; i++)
		if (z->e[i].keep && strcmp(z->e[i].name, stored_first) == 0)
			first = &z->e[i];
	if (first && add_entry(za, first, true) < 0)
		return -1;
	for (size_t i = 0; i < z->n; i++)
		if (z->e[i].keep && &z->e[i] != first && !(*z->e[i].name == '\0') &&
		    add_entry(za, &z->e[i], false) < 0)
			return -1;
	return 0;
}

static int source_to_buf(zip_source_t *src, buf_t *out)
{
	zip_stat_t st;
	int rc = -1;

	if (zip_source_stat(src, &st) < 0 || zip_source_open(src) < 0)
		return -1;
	if (buf_reserve(out, (size_t)st.size) == 0 &&
	    zip_source_read(src, out->data + out->len, st.size) == (zip_int64_t)st.size) {
		out->len += (size_t)st.size;
		out->data[out->len] = '\0';
		rc = 0;
	}
	zip_source_close(src);
	return rc;
}

int cdr_zip_write(const cdr_zip_t *z, const char *stored_first, buf_t *out)
{
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, NULL);
	zip_t *za;
	int rc = -1;

	if (!src)
		return -1;
	za = zip_open_from_source(src, ZIP_TRUNCATE, NULL);
	if (!za)
		goto out;
	zip_source_keep(src);
	if (add_entries(za, z, stored_first) < 0) {
		zip_discard(za);
		goto out;
	}
	if (zip_close(za) < 0) {
		zip_discard(za);
		goto out;
	}
	rc = source_to_buf(src, out);
out:
	zip_source_free(src);
	return rc;
}

/* ---- zip CDR ------------------------------------------------------------ */

static bool is_odf(cdr_zip_t *z)
{
	cdr_zentry_t *m = cdr_zip_find(z, "mimetype");
	static const char pfx[] = "application/vnd.oasis.opendocument.";

	return m && m->len > sizeof(pfx) - 1 && memcmp(m->data, pfx, sizeof(pfx) - 1) == 0;
}

/* Is name taken (case-insensitively, as on Windows) by a kept entry other than self? */
static bool name_taken(const cdr_zip_t *z, const cdr_zentry_t *self, const char *name)
{
	for (size_t i = 0; i < z->n; i++)
		if (&z->e[i] != self && z->e[i].keep && strcasecmp(z->e[i].name, name) == 0)
			return true;
	return false;
}

/* Make name unique among kept entries: "a.png" → "a (2).png", "a (3).png"…
 * (two entries can meet after sanitizing: a.png + a.bmp, b.docx + b.docm). */
static int unique_name(const cdr_zip_t *z, const cdr_zentry_t *self, char *name, size_t size)
{
	char base[ZIP_NAME_MAX];
	const char *slash, *dot;
	size_t stem;

	if (!name_taken(z, self, name))
		return 0;
	if (snprintf(base, sizeof(base), "%s", name) >= (int)sizeof(base))
		return -1;
	slash = strrchr(base, '/');
	dot = strrchr(slash ? slash : base, '.');
	if (dot == base || (slash && dot == slash + 1))
		dot = NULL;
	stem = dot ? (size_t)(dot - base) : strlen(base);
	for (size_t k = 2; k <= z->n + 1; k++) {
		int n = snprintf(name, size, "%.*s (%zu)%s", (int)stem, base, k, dot ? dot : "");

		if (n < 0 || (size_t)n >= size)
			return -1;
		if (!name_taken(z, self, name))
			return 0;
	}
	return -1;
}

/* Actions whose detail starts with an entry path ("entry-removed: PATH:
 * REASON"): a nested archive's path is joined with '/', so PATH is always
 * one field (names hold no ':', see bad_name_char) and words.c can show
 * REASON as a sentence. */
static bool path_action(const char *text, int code)
{
	return (code == 13 && strncmp(text, "entry-removed", 13) == 0) ||
	       (code == 13 && strncmp(text, "entry-renamed", 13) == 0);
}

/* An entry's action keeps its code first: "code: entry: detail" (or
 * "code: entry/inner: ..." for path actions). */
static int nested_action(cdr_result_t *res, const char *entry, const char *text)
{
	const char *detail = cdr_words_detail(text);
	int code = (int)(detail ? (size_t)(detail - 2 - text) : strlen(text));

	return cdr_action(res, "%.*s: %s%s%s", code, text, entry,
			  detail ? (path_action(text, code) ? "/" : ": ") : "", detail ? detail : "");
}

/* "zip-nothing-left: PATH: REASON" from the first entry removed. */
static int nothing_left(cdr_result_t *res)
{
	for (size_t i = 0; i < res->nactions; i++)
		if (strncmp(res->actions[i].text, "entry-removed: ", 15) == 0)
			return cdr_block(res, "zip-nothing-left: %.400s", res->actions[i].text + 15);
	return cdr_block(res, "zip-nothing-left");
}

/* Sanitize one entry in a nested job; replace its data and maybe its name. */
static int sanitize_entry(cdr_job_t *job, cdr_zip_t *z, cdr_zentry_t *e, cdr_result_t *res)
{
	cdr_job_t sub = *job;
	cdr_result_t r;
	char name[ZIP_NAME_MAX], *safe = cdr_name_safe_dup(e->name);
	int rc;

	if (!safe)
		return -1;
	sub.depth++;
	sub.name = safe; /* as Windows will read it: "run.exe." is run.exe */
	rc = cdr_run(&sub, e->data, e->len, &r);
	free(safe);
	job->zip_budget = sub.zip_budget;
	if (rc < 0 || r.verdict != CDR_SANITIZED) {
		/* an internal failure costs this entry only, with a true reason */
		rc = cdr_action(res, "entry-removed: %s: %s", e->name,
				rc < 0 || !r.reason[0] ? "internal-error" : r.reason);
		goto out;
	}
	if (cdr_output_name(e->name, r.out_type, name, sizeof(name)) < 0 ||
	    unique_name(z, e, name, sizeof(name)) < 0) {
		rc = cdr_action(res, "entry-removed: %s: internal-error: name too long", e->name);
		goto out;
	}
	if (strcmp(name, e->name) != 0 &&
	    ((rc = cdr_action(res, "entry-renamed: %s to %s", e->name, name)) < 0))
		goto out;
	for (size_t i = 0; i < r.nactions && rc == 0; i++)
		rc = nested_action(res, e->name, r.actions[i].text);
	free(e->data);
	e->data = (unsigned char *)buf_steal(&r.out, &e->len);
	e->keep = true;
	if (strcmp(name, e->name) != 0) {
		free(e->name);
		e->name = strdup(name);
		rc = e->name ? rc : -1;
	}
out:
	cdr_result_free(&r);
	return rc;
}

static int plain_zip(cdr_job_t *job, cdr_zip_t *z, cdr_result_t *res)
{
	size_t kept = 0;

	if (cfg_is(job->cfg, CFG_ZIP_POLICY, "remove"))
		return cdr_block(res, "policy:zip_policy");
	if (job->depth >= lim(job->lim, LIM_ZIP_DEPTH))
		return cdr_block(res, "limit:zip_depth_max");
	for (size_t i = 0; i < z->n; i++) {
		if (!*z->e[i].name || z->e[i].name[strlen(z->e[i].name) - 1] == '/')
			continue;
		if (cdr_timed_out(job))
			return cdr_block(res, "limit:cdr_time_max");
		if (sanitize_entry(job, z, &z->e[i], res) < 0)
			return -1;
		kept += z->e[i].keep;
	}
	if (kept == 0)
		return nothing_left(res);
	if (cdr_zip_write(z, NULL, &res->out) < 0)
		return res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
	return cdr_done(res, "zip");
}

int cdr_zip(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	cdr_zip_t z;
	int rc = cdr_zip_read(job, in, len, &z, res);

	if (rc < 0 || !cdr_pending(res))
		goto out;
	if (cdr_zip_find(&z, "[Content_Types].xml")) {
		rc = cfg_is(job->cfg, CFG_OFFICE_POLICY, "remove")
			? cdr_block(res, "policy:office_policy") : cdr_ooxml(job, &z, res);
		rc = rc == 0 ? cdr_legacy_route(job, false, res) : rc;
	} else if (is_odf(&z)) {
		rc = cfg_is(job->cfg, CFG_ODF_POLICY, "remove")
			? cdr_block(res, "policy:odf_policy") : cdr_odf(job, &z, res);
		rc = rc == 0 ? cdr_legacy_route(job, true, res) : rc;
	} else {
		rc = plain_zip(job, &z, res);
	}
out:
	cdr_zip_free(&z);
	return rc;
}
