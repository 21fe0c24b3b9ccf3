/*
 * io.c — write-everything and atomic file replacement (see io.h).
 * POSIX write(2), rename(2) atomicity within one file system; open(2)
 * O_TMPFILE and linkat(2) (Linux) for the unnamed temp file.
 *
 * SECURITY: used by the CLI, the daemon's processes and the store; the
 * temp file is created unnamed (O_TMPFILE) or with mkstemp, mode 0600,
 * before its final mode is set; it is linked as the path itself only when
 * nothing is there, else under a name drawn from getentropy, and renamed;
 * linkat never replaces an existing file.
 * io_write_output never renames over anything but a regular file, so a
 * device node or FIFO named as output (mugai ... /dev/null, as root) stays
 * what it was.
 */
#include "common/io.h"
#include "common/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int io_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int io_send_fds(int sock, const void *p, size_t n, const int *fds, int nfd)
{
	union { struct cmsghdr c; char b[CMSG_SPACE(IO_SEND_FDS_MAX * sizeof(int))]; } u;
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	const char *c = p;

	if (nfd < 0 || nfd > IO_SEND_FDS_MAX || n == 0)
		return errno = EINVAL, -1;
	memset(&u, 0, sizeof(u));
	if (nfd > 0) {
		m.msg_control = u.b;
		m.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
		u.c.cmsg_level = SOL_SOCKET;
		u.c.cmsg_type = SCM_RIGHTS;
		u.c.cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		memcpy(CMSG_DATA(&u.c), fds, (size_t)nfd * sizeof(int));
	}
	while (n > 0) {
		ssize_t w;

		iov.iov_base = (void *)c;
		iov.iov_len = n;
		w = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
		m.msg_control = NULL; /* the descriptors went with the first part */
		m.msg_controllen = 0;
	}
	return 0;
}

/* path's directory ("." for a bare name) into dir (n bytes). */
static int dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t k = slash ? (size_t)(slash - path) : 1;

	if (slash && k == 0)
		k = 1; /* "/name": the root */
	if (k >= n)
		return -1;
	memcpy(dir, slash ? path : ".", k);
	dir[k] = '\0';
	return 0;
}

int io_stage_open(io_stage_t *st, const char *path)
{
	size_t n = strlen(path) + sizeof(".tmpXXXXXX");
	char dir[PATH_BUF_MAX];

	st->fd = -1;
	st->named = false;
	st->tmp = malloc(n);
	if (!st->tmp)
		return -1;
	snprintf(st->tmp, n, "%s.tmpXXXXXX", path);
	if (dir_of(path, dir, sizeof(dir)) == 0)
		st->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (st->fd >= 0)
		return 0;
	st->fd = mkstemp(st->tmp); /* no O_TMPFILE on this file system */
	st->named = st->fd >= 0;
	if (st->fd >= 0)
		return 0;
	free(st->tmp);
	st->tmp = NULL;
	return -1;
}

int io_stage_write(io_stage_t *st, const void *p, size_t n)
{
	return io_write_all(st->fd, p, n);
}

int io_stage_truncate(io_stage_t *st)
{
	return ftruncate(st->fd, 0) < 0 || lseek(st->fd, 0, SEEK_SET) < 0 ? -1 : 0;
}

void io_stage_abort(io_stage_t *st)
{
	int saved = errno;

	if (st->fd >= 0)
		close(st->fd);
	if (st->tmp && st->named)
		unlink(st->tmp);
	free(st->tmp);
	st->tmp = NULL;
	st->fd = -1;
	st->named = false;
	errno = saved;
}

/* The unnamed file's bytes into a new named temp file (st->tmp), which
 * replaces it in st: the commit of a file system where it cannot be
 * linked (no /proc, no CAP_DAC_READ_SEARCH). */
static int stage_copy(io_stage_t *st)
{
	int to = mkstemp(st->tmp);
	off_t at = 0;
	char buf[IO_CHUNK];
	ssize_t r;

	if (to < 0)
		return -1;
	while ((r = pread(st->fd, buf, sizeof(buf), at)) > 0 && io_write_all(to, buf, (size_t)r) == 0)
		at += r;
	if (r != 0) {
		int saved = errno;

		close(to);
		unlink(st->tmp);
		errno = saved;
		return -1;
	}
	close(st->fd);
	st->fd = to;
	return 0;
}

/* The unnamed file linked as name: through /proc/self/fd, else by
 * AT_EMPTY_PATH (root). linkat never replaces: EEXIST when name is taken. */
static bool stage_link(const io_stage_t *st, const char *name)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", st->fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0 ||
	       (errno != EEXIST && linkat(st->fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0);
}

/* Give the unnamed file its name st->tmp (path.tmp + six random letters,
 * made free first): linked (stage_link), else copied. */
static int stage_name(io_stage_t *st)
{
	static const char az[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = strlen(st->tmp);

	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];

		if (getentropy(r, sizeof(r)) < 0)
			return -1;
		for (size_t i = 0; i < 6; i++)
			st->tmp[n - 6 + i] = az[r[i] % (sizeof(az) - 1)];
		if (stage_link(st, st->tmp)) {
			st->named = true;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	memcpy(st->tmp + n - 6, "XXXXXX", 6);
	if (stage_copy(st) < 0)
		return -1;
	st->named = true;
	return 0;
}

static int stage_seal(io_stage_t *st, mode_t mode)
{
	return fsync(st->fd) < 0 || fchmod(st->fd, mode) < 0 ? -1 : 0;
}

int io_stage_commit(io_stage_t *st, const char *path, mode_t mode)
{
	int rc = stage_seal(st, mode), fd = st->fd;
	bool linked = false;

	if (rc == 0 && !st->named) {
		/* flushed and with its mode: as path itself when nothing is
		 * there, so no temp name ever exists */
		linked = stage_link(st, path);
		if (!linked && (rc = stage_name(st)) == 0 && st->fd != fd)
			rc = stage_seal(st, mode); /* the copy */
	}
	if (rc == 0) { /* closed either way: a failed close is not retried */
		rc = close(st->fd);
		st->fd = -1;
	}
	if (rc == 0 && !linked)
		rc = rename(st->tmp, path);
	if (rc < 0) {
		if (linked)
			unlink(path); /* (close failed: what was linked may be short) */
		io_stage_abort(st);
		return -1;
	}
	free(st->tmp);
	st->tmp = NULL;
	return 0;
}

int io_replace_file(const char *path, const void *data, size_t len, mode_t mode)
{
	io_stage_t st;

	if (io_stage_open(&st, path) < 0)
		return -1;
	if (io_stage_write(&st, data, len) < 0) {
		io_stage_abort(&st);
		return -1;
	}
	return io_stage_commit(&st, path, mode);
}

static int write_in_place(const char *path, const void *data, size_t len, bool fifo,
			  const char **why)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
	int rc = -1, saved;

	if (fd < 0) {
		*why = (fifo && errno == ENXIO) ? "FIFO has no reader; refusing to wait"
						: strerror(errno);
		return -1;
	}
	if (fifo && fcntl(fd, F_SETFL, 0) < 0) {
		*why = strerror(errno);
		goto out;
	}
	rc = io_write_all(fd, data, len);
	if (rc < 0)
		*why = strerror(errno);
out:
	saved = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
		*why = strerror(errno);
	}
	errno = saved;
	return rc;
}

int io_write_output(const char *path, const void *data, size_t len, mode_t mode,
		    const char **why)
{
	struct stat st;

	*why = NULL;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT) {
			*why = strerror(errno);
			return -1;
		}
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		return write_in_place(path, data, len, S_ISFIFO(st.st_mode), why);
	} else if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		*why = "not a regular file, FIFO or character device; refusing to write to it";
		return -1;
	}
	if (io_replace_file(path, data, len, mode) < 0) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}

void io_remove_output(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
		unlink(path);
}

/* Create, write (fsync) and remove a probe file in dir, as the current
 * user. 0 or -1 (errno set). */
int io_probe_dir(const char *dir)
{
	char path[PATH_BUF_MAX];
	int fd, rc, saved;

	if (snprintf(path, sizeof(path), "%s/.mugaid-probe-%d", dir, (int)getpid()) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	rc = write(fd, "probe\n", 6) == 6 && fsync(fd) == 0 ? 0 : -1;
	saved = errno;
	close(fd);
	unlink(path);
	errno = saved;
	return rc;
}
