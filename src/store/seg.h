/*
 * seg.h — blob segments: quarantined originals appended to large files
 * ROOT/seg-NNNNNN instead of one file (write, fsync, rename, directory
 * fsync) each, so that a batch of puts costs one fdatasync(2).
 *
 * One writer per segment: a writer holds flock(LOCK_EX) on the segment it
 * appends to for as long as it has it open; a process that finds it locked
 * (mugaid's store process holds one while the CLI puts) takes the next
 * number. A writer that takes a segment cuts it back to the end of its last
 * committed original (the caller's callback asks the index, inside the
 * write transaction), so the bytes of a batch killed before its commit do
 * not stay on disk. A segment past the size limit is closed (after its
 * flush) and the next one is created; a new file's directory entry is
 * made durable with the next flush. Nothing on the put path creates a
 * directory. The index row keeps (segment, offset, length, sha256); reads
 * check the digest (the caller).
 *
 * Purge: seg_punch deallocates an original's bytes (fallocate
 * FALLOC_FL_PUNCH_HOLE; where the file system cannot, they are overwritten
 * with zeros) and flushes; seg_remove unlinks a segment none of whose
 * originals is live and that no writer holds; seg_trim cuts the uncommitted
 * tail of a segment no writer holds (a writer killed before its commit
 * that no later writer took over).
 *
 * SECURITY: store-owning process only. Names are built from numbers, never
 * from input; O_NOFOLLOW and O_CLOEXEC on every open; files 0600.
 */
#ifndef MUGAI_SEG_H
#define MUGAI_SEG_H

#include <stdbool.h>
#include <stdint.h>
#include "common/buf.h"
#include "common/defs.h"

/* End of the committed originals of segment no (0 when none). */
typedef int (*seg_end_fn)(void *arg, int64_t no, uint64_t *end);

typedef struct seg_writer {
	const char *root;    /* state_dir/blobs (not owned) */
	uint64_t max;        /* store_segment_max */
	int fd;              /* the locked segment, or -1 */
	int64_t no;          /* its number */
	uint64_t end;        /* where the next original goes */
	bool dirty;          /* appended since the last flush */
	bool created;        /* a new directory entry since the last flush */
} seg_writer_t;

void seg_writer_init(seg_writer_t *w, const char *root, uint64_t max);
/* Append n bytes: *no and *off say where they went. The segment is taken
 * (and cut back with end_of) on the first append and after a rotation. */
int seg_append(seg_writer_t *w, const void *p, size_t n, seg_end_fn end_of, void *arg,
	       int64_t *no, uint64_t *off) MUGAI_WUR;
/* Make every append durable: fdatasync, and the directory after a new
 * segment. 0 at once when nothing was appended. */
int seg_flush(seg_writer_t *w) MUGAI_WUR;
/* Give the segment up (unflushed appends are not durable). */
void seg_writer_close(seg_writer_t *w);

/* n bytes of segment no at off into out (cap max). *bad: the segment or
 * the range is missing. */
int seg_read(const char *root, int64_t no, uint64_t off, size_t n, size_t max, buf_t *out,
	     bool *bad) MUGAI_WUR;
/* Deallocate (or zero) n bytes at off, flushed. A missing segment is fine. */
int seg_punch(const char *root, int64_t no, uint64_t off, uint64_t n) MUGAI_WUR;
/* Unlink segment no unless a writer holds it: 1 removed, 0 held. */
int seg_remove(const char *root, int64_t no) MUGAI_WUR;
/* The highest segment number under root (0 when none). */
int64_t seg_highest(const char *root);
/* Cut segment no back to the end of its committed originals unless a
 * writer holds it (the tail of a writer killed before its commit):
 * 1 cut, 0 nothing to cut, held or missing. */
int seg_trim(const char *root, int64_t no, seg_end_fn end_of, void *arg) MUGAI_WUR;

#endif
