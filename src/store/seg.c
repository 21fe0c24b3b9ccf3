/*
 * seg.c — blob segments (see seg.h).
 *
 * Follows fdatasync(2) (a file's data and the size needed to read it),
 * fallocate(2) FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, and flock(2)
 * (locks belong to the open file description, so they end with the
 * writer's close or death). A new segment's directory entry is fsynced
 * with the first flush after its creation.
 *
 * SECURITY: store-owning process only; see seg.h.
 */
#include "store/seg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/limits.h"

void seg_writer_init(seg_writer_t *w, const char *root, uint64_t max)
{
	memset(w, 0, sizeof(*w));
	w->root = root;
	w->max = max;
	w->fd = -1;
}

static int seg_path(char *out, size_t cap, const char *root, int64_t no)
{
	int n = snprintf(out, cap, "%s/seg-%06" PRId64, root, no);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int64_t seg_highest(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int64_t hi = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long long v;

		if (strncmp(e->d_name, "seg-", 4) != 0 || strlen(e->d_name) >= SEG_NAME_MAX)
			continue;
		v = strtoll(e->d_name + 4, &end, 10);
		if (*end == '\0' && v > hi)
			hi = v;
	}
	closedir(d);
	return hi;
}

static int fsync_root(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* fd still names path (a purge may have unlinked it before we locked it). */
static bool still_linked(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino && a.st_nlink > 0 && S_ISREG(a.st_mode);
}

/* Open and lock segment no: 1 taken, 0 held by another writer or full, -1. */
static int try_take(seg_writer_t *w, int64_t no, bool create)
{
	char path[PATH_BUF_MAX];
	struct stat st;
	int fd;

	if (seg_path(path, sizeof(path), w->root, no) < 0)
		return errno = ENAMETOOLONG, -1;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
	if (fd < 0)
		return errno == ENOENT || errno == EEXIST ? 0 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !still_linked(fd, path) || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_size >= w->max) {
		int e = errno;

		close(fd);
		return e == EWOULDBLOCK || e == EINTR || !create ? 0 : (errno = e, -1);
	}
	w->fd = fd;
	w->no = no;
	w->end = (uint64_t)st.st_size;
	w->created = create;
	return 1;
}

/* Take the highest segment, or create the next ones until one is ours. */
static int take(seg_writer_t *w, seg_end_fn end_of, void *arg)
{
	int64_t no = seg_highest(w->root);
	int r = no > 0 ? try_take(w, no, false) : 0;
	uint64_t end = 0;

	for (int i = 0; r == 0 && i < SEG_TRIES_MAX; i++)
		r = try_take(w, ++no, true);
	if (r <= 0)
		return r == 0 ? (errno = EAGAIN, -1) : -1;
	if (end_of(arg, w->no, &end) < 0)
		goto fail;
	if (end < w->end) { /* a batch died before its commit: its bytes go */
		if (ftruncate(w->fd, (off_t)end) < 0)
			goto fail;
		w->end = end;
		w->dirty = true;
	}
	w->end = end; /* past a lost tail too: never over a committed original */
	return 0;
fail:
	seg_writer_close(w);
	return -1;
}

int seg_append(seg_writer_t *w, const void *p, size_t n, seg_end_fn end_of, void *arg,
	       int64_t *no, uint64_t *off)
{
	if (w->fd >= 0 && w->end >= w->max) { /* full: flushed, then the next one */
		if (seg_flush(w) < 0)
			return -1;
		seg_writer_close(w);
	}
	if (w->fd < 0 && take(w, end_of, arg) < 0)
		return -1;
	for (size_t done = 0; done < n;) {
		ssize_t k = pwrite(w->fd, (const char *)p + done, n - done, (off_t)(w->end + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	*no = w->no;
	*off = w->end;
	w->end += n;
	w->dirty = true;
	return 0;
}

int seg_flush(seg_writer_t *w)
{
	if (w->fd < 0 || !w->dirty)
		return 0;
	if (fdatasync(w->fd) < 0)
		return -1;
	if (w->created && fsync_root(w->root) < 0)
		return -1;
	w->dirty = w->created = false;
	return 0;
}

void seg_writer_close(seg_writer_t *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->dirty = w->created = false;
}

int seg_read(const char *root, int64_t no, uint64_t off, size_t n, size_t max, buf_t *out,
	     bool *bad)
{
	char path[PATH_BUF_MAX], chunk[IO_CHUNK];
	int fd = -1, rc = -1;

	*bad = false;
	buf_reset(out);
	if (n > max || seg_path(path, sizeof(path), root, no) < 0)
		goto out;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*bad = errno == ENOENT;
		rc = *bad ? 0 : -1;
		goto out;
	}
	while (out->len < n) {
		size_t want = n - out->len < sizeof(chunk) ? n - out->len : sizeof(chunk);
		ssize_t k = pread(fd, chunk, want, (off_t)(off + out->len));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto out;
		if (k == 0) { /* the range is gone */
			*bad = true;
			break;
		}
		if (buf_append(out, chunk, (size_t)k) < 0)
			goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Where the file system cannot punch holes: overwrite with zeros. */
static int zero_range(int fd, uint64_t off, uint64_t n)
{
	static const char zeros[IO_CHUNK];

	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, k, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (uint64_t)w;
		n -= (uint64_t)w;
	}
	return 0;
}

/* Segment `no` opened with `flags` and, when `lock`, locked exclusively
 * without waiting: 1 with *fd, 0 when it does not exist or (lock) its
 * writer still holds it, -1 on error. path gets its name. */
static int seg_open_idle(const char *root, int64_t no, int flags, bool lock,
			 char path[PATH_BUF_MAX], int *fd)
{
	if (seg_path(path, PATH_BUF_MAX, root, no) < 0)
		return -1;
	*fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (lock && flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int rc = errno == EWOULDBLOCK ? 0 : -1;

		close(*fd);
		*fd = -1;
		return rc;
	}
	return 1;
}

int seg_punch(const char *root, int64_t no, uint64_t off, uint64_t n)
{
	char path[PATH_BUF_MAX];
	int fd, rc = seg_open_idle(root, no, O_RDWR, false, path, &fd);

	if (rc <= 0)
		return rc;
	rc = -1;
	if (n && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			   (off_t)n) < 0 &&
	    (errno != EOPNOTSUPP || zero_range(fd, off, n) < 0))
		goto out;
	if (fdatasync(fd) < 0)
		goto out;
	rc = 0;
out:
	close(fd);
	return rc;
}

int seg_remove(const char *root, int64_t no)
{
	char path[PATH_BUF_MAX];
	int fd, rc = seg_open_idle(root, no, O_RDONLY, true, path, &fd);

	if (rc <= 0)
		return rc;
	rc = unlink(path) == 0 && fsync_root(root) == 0 ? 1 : -1;
	close(fd);
	return rc;
}

int seg_trim(const char *root, int64_t no, seg_end_fn end_of, void *arg)
{
	char path[PATH_BUF_MAX];
	uint64_t end = 0;
	struct stat st;
	int fd, rc = seg_open_idle(root, no, O_RDWR, true, path, &fd);

	if (rc <= 0)
		return rc;
	rc = -1;
	if (fstat(fd, &st) < 0 || end_of(arg, no, &end) < 0)
		goto out;
	rc = 0;
	if ((uint64_t)st.st_size > end) {
		if (ftruncate(fd, (off_t)end) < 0 || fdatasync(fd) < 0)
			rc = -1;
		else
			rc = 1;
	}
out:
	close(fd);
	return rc;
}
