/*
 * io.c — write-everything and atomic file replacement (see io.h).
 * POSIX write(2), rename(2) atomicity within one file system.
 *
 * SECURITY: used by the CLI, the daemon's processes and the store; the
 * temp file is created with mkstemp (0600) before its final mode is set.
 */
#include "common/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int io_replace_file(const char *path, const void *data, size_t len, mode_t mode)
{
	size_t n = strlen(path) + sizeof(".tmpXXXXXX");
	char *tmp = malloc(n);
	int fd = -1, rc = -1, saved;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	if (io_write_all(fd, data, len) < 0 || fsync(fd) < 0 || fchmod(fd, mode) < 0)
		goto out;
	rc = close(fd);
	fd = -1;
	if (rc == 0)
		rc = rename(tmp, path);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return rc;
}
