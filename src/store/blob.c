/*
 * blob.c — content-addressed original files (see blob.h).
 *
 * Follows the POSIX recipe for an atomic, durable replace: write a temp file
 * in the target directory, fsync(2) it, rename(2) it over the final name,
 * fsync(2) the directory so the new entry survives a power loss.
 *
 * SECURITY: store process only. Paths are ROOT + hex digest; O_NOFOLLOW and
 * O_CLOEXEC on every open; files 0600, directories 0700.
 */
#include "blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/io.h"
#include "common/limits.h"
#include "common/sha256.h"

int blob_sha256(const void *p, size_t n, char out[BLOB_HEX_LEN + 1])
{
	sha256_hex(p, n, out);
	return 0;
}

bool blob_hex_valid(const char *s)
{
	size_t i;

	for (i = 0; i < BLOB_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

static int mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

int blob_root_init(const char *root)
{
	return mkdir_0700(root);
}

static int shard_path(char *out, size_t cap, const char *root, const char *hex)
{
	int n = snprintf(out, cap, "%s/%.2s", root, hex);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int file_path(char *out, size_t cap, const char *root, const char *hex)
{
	int n = snprintf(out, cap, "%s/%.2s/%s", root, hex, hex);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;

	if (fd < 0)
		goto out;
	if (fsync(fd) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}


/* Temp file in dir: write, fsync, close. *tmp gets its path. */
static int write_temp(const char *dir, char *tmp, size_t cap, const void *p, size_t n)
{
	uint32_t r = 0;
	int fd = -1, rc = -1, k;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		goto out;
	k = snprintf(tmp, cap, "%s/.tmp-%ld-%08x", dir, (long)getpid(), r);
	if (k < 0 || (size_t)k >= cap)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (io_write_all(fd, p, n) < 0 || fsync(fd) < 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	return rc;
}

static bool present_with_size(const char *path, size_t n)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == n;
}

int blob_write(const char *root, const char *hex, const void *p, size_t n)
{
	char dir[BLOB_PATH_MAX], path[BLOB_PATH_MAX], tmp[BLOB_PATH_MAX];
	int rc = -1;

	if (!blob_hex_valid(hex) || shard_path(dir, sizeof(dir), root, hex) < 0 ||
	    file_path(path, sizeof(path), root, hex) < 0 || mkdir_0700(dir) < 0)
		goto out;
	if (!present_with_size(path, n)) {
		if (write_temp(dir, tmp, sizeof(tmp), p, n) < 0)
			goto out;
		if (rename(tmp, path) < 0) {
			unlink(tmp);
			goto out;
		}
	}
	if (fsync_dir(dir) < 0)
		goto out;
	rc = 0;
out:
	return rc;
}

int blob_exists(const char *root, const char *hex, bool *exists)
{
	char path[BLOB_PATH_MAX];
	struct stat st;

	if (!blob_hex_valid(hex) || file_path(path, sizeof(path), root, hex) < 0)
		return -1;
	if (lstat(path, &st) == 0) {
		*exists = S_ISREG(st.st_mode);
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	*exists = false;
	return 0;
}

static int read_fd(int fd, size_t max, buf_t *out)
{
	char chunk[IO_CHUNK];

	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (out->len + (size_t)r > max || buf_append(out, chunk, (size_t)r) < 0)
			return -1;
	}
}

int blob_read(const char *root, const char *hex, size_t max, buf_t *out, bool *bad)
{
	char path[BLOB_PATH_MAX], got[BLOB_HEX_LEN + 1];
	int fd = -1, rc = -1;

	*bad = false;
	buf_reset(out);
	if (!blob_hex_valid(hex) || file_path(path, sizeof(path), root, hex) < 0)
		goto out;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*bad = (errno == ENOENT);
		rc = *bad ? 0 : -1;
		goto out;
	}
	if (read_fd(fd, max, out) < 0 || blob_sha256(out->data ? out->data : "",
						       out->len, got) < 0)
		goto out;
	*bad = strcmp(got, hex) != 0;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int blob_remove(const char *root, const char *hex)
{
	char dir[BLOB_PATH_MAX], path[BLOB_PATH_MAX];

	if (!blob_hex_valid(hex) || shard_path(dir, sizeof(dir), root, hex) < 0 ||
	    file_path(path, sizeof(path), root, hex) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return fsync_dir(dir);
}

static bool older_than(int dfd, const char *name, time_t cutoff)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime < cutoff;
}

/* One shard directory: stale temp files go, old blobs are offered to cb. */
static int sweep_shard(const char *dir, time_t cutoff, blob_sweep_cb cb, void *arg,
		       long *removed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = -1, r;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".tmp-", 5) == 0) {
			if (older_than(dirfd(d), e->d_name, cutoff))
				(void)unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (!blob_hex_valid(e->d_name) || !older_than(dirfd(d), e->d_name, cutoff))
			continue;
		r = cb(e->d_name, arg);
		if (r < 0)
			goto out;
		*removed += r;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

int blob_sweep(const char *root, time_t grace, blob_sweep_cb cb, void *arg, long *removed)
{
	static const char hexd[] = "0123456789abcdef";
	char dir[BLOB_PATH_MAX];
	time_t cutoff = time(NULL) - grace;

	*removed = 0;
	for (int i = 0; i < BYTE_VALUES; i++) {
		int k = snprintf(dir, sizeof(dir), "%s/%c%c", root, hexd[i >> 4], hexd[i & 15]);

		if (k < 0 || (size_t)k >= sizeof(dir))
			return -1;
		if (sweep_shard(dir, cutoff, cb, arg, removed) < 0)
			return -1;
	}
	return 0;
}
