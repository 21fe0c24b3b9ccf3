/*
 * test_io_stage.c — a file written in steps and put in place at the end
 * (io_stage_* in src/common/io.c): while it is written it has no name in
 * the directory (O_TMPFILE), so a killed writer leaves nothing; the commit
 * names it through /proc/self/fd, else by AT_EMPTY_PATH, else by copying
 * it, and renames it over the path. Each way, and the file system without
 * O_TMPFILE (a named temp file at once), must leave exactly the bytes
 * written, with the mode asked for, and nothing else in the directory; an
 * abort leaves nothing. When nothing is at the path, the unnamed file is
 * linked as the path itself: no temp name is ever made (so no kill at any
 * moment can leave one). The failures are made here: this file includes
 * src/common/io.c with open and linkat replaced by switches.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

static int no_tmpfile;   /* open(O_TMPFILE) fails EOPNOTSUPP */
static int no_proc_link; /* linkat through /proc/self/fd fails ENOENT (no /proc) */
static int no_empty_path; /* linkat(AT_EMPTY_PATH) fails ENOENT (no CAP_DAC_READ_SEARCH) */
static int links_tried;
static int tmp_names; /* links made under a path.tmp name */

static int test_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & O_CREAT || (flags & O_TMPFILE) == O_TMPFILE)
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if ((flags & O_TMPFILE) == O_TMPFILE && no_tmpfile) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return open(path, flags, mode);
}

static int test_linkat(int ofd, const char *old, int nfd, const char *new, int flags)
{
	int rc;

	links_tried++;
	if ((flags & AT_EMPTY_PATH) ? no_empty_path : no_proc_link) {
		errno = ENOENT;
		return -1;
	}
	rc = linkat(ofd, old, nfd, new, flags);
	if (rc == 0 && strstr(new, ".tmp"))
		tmp_names++;
	return rc;
}

#define open test_open
#define linkat test_linkat
#include "../../src/common/io.c"
#undef open
#undef linkat

static char dir[64];
static bool tmpfile_ok; /* the directory's file system has O_TMPFILE */

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mugai-io-stage-XXXXXX");
	assert_non_null(mkdtemp(dir));
	no_tmpfile = no_proc_link = no_empty_path = links_tried = tmp_names = 0;
	{
		int fd = open(dir, O_TMPFILE | O_RDWR, 0600);

		tmpfile_ok = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_BUF_MAX];

	(void)state;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

/* The names in the directory, joined by spaces ("" when empty). */
static const char *listing(void)
{
	static char out[1024];
	DIR *d = opendir(dir);
	struct dirent *e;

	out[0] = '\0';
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? " " : "",
				 e->d_name);
	closedir(d);
	return out;
}

/* Stage 300,000 bytes (more than one IO_CHUNK, in steps), commit as
 * dir/out with mode 0640, and check the file. named_before: whether a temp
 * file is in the directory while it is written. */
static void stage_and_commit(bool named_before)
{
	char path[PATH_BUF_MAX], *want = malloc(300000), *got = malloc(300001);
	io_stage_t st;
	struct stat sb;
	FILE *f;

	assert_non_null(want);
	assert_non_null(got);
	for (size_t i = 0; i < 300000; i++)
		want[i] = (char)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(io_stage_open(&st, path), 0);
	assert_int_equal(io_stage_write(&st, "to be forgotten", 15), 0);
	assert_int_equal(io_stage_truncate(&st), 0);
	for (size_t at = 0; at < 300000; at += 100000)
		assert_int_equal(io_stage_write(&st, want + at, 100000), 0);
	if (named_before)
		assert_int_equal(strncmp(listing(), "out.tmp", 7), 0);
	else
		assert_string_equal(listing(), "");
	assert_int_equal(io_stage_commit(&st, path, 0640), 0);
	assert_string_equal(listing(), "out");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_size, 300000);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, 300001, f), 300000);
	fclose(f);
	assert_memory_equal(got, want, 300000);
	assert_null(st.tmp);
	assert_int_equal(st.fd, -1);
	free(want);
	free(got);
}

/* An unnamed file committed to a new path with the given ways of linking
 * switched off: links tried, and links made under a temp name. */
static void unnamed_case(int proc_off, int empty_off, int want_tries, int want_tmp)
{
	if (!tmpfile_ok)
		skip(); /* this file system names every file at once */
	no_proc_link = proc_off;
	no_empty_path = empty_off;
	stage_and_commit(false);
	assert_int_equal(links_tried, want_tries);
	assert_int_equal(tmp_names, want_tmp);
}

static void test_unnamed_while_written_linked_through_proc(void **state)
{
	(void)state;
	unnamed_case(0, 0, 1, 0);
}

static void test_without_proc_linked_by_empty_path(void **state)
{
	(void)state;
	unnamed_case(1, 0, 2, 0);
}

static void test_without_either_link_copied(void **state)
{
	(void)state;
	unnamed_case(1, 1, 4, 0); /* both ways as the path, both as a temp name; then a copy */
}

static void test_without_o_tmpfile_a_named_temp_file(void **state)
{
	(void)state;
	no_tmpfile = 1;
	stage_and_commit(true);
	assert_int_equal(links_tried, 0);
}

static void test_abort_leaves_nothing_either_way(void **state)
{
	char path[PATH_BUF_MAX];
	io_stage_t st;

	(void)state;
	snprintf(path, sizeof(path), "%s/out", dir);
	for (no_tmpfile = 0; no_tmpfile < 2; no_tmpfile++) {
		assert_int_equal(io_stage_open(&st, path), 0);
		assert_int_equal(io_stage_write(&st, "partial", 7), 0);
		io_stage_abort(&st);
		assert_string_equal(listing(), "");
		assert_null(st.tmp);
	}
}

static void test_replace_keeps_the_old_file_until_the_rename(void **state)
{
	char path[PATH_BUF_MAX];
	io_stage_t st;
	FILE *f;
	char buf[16] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(io_replace_file(path, "old", 3, 0644), 0);
	assert_int_equal(io_stage_open(&st, path), 0);
	assert_int_equal(io_stage_write(&st, "new bytes", 9), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 3); /* still the old file */
	fclose(f);
	assert_int_equal(io_stage_commit(&st, path, 0644), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 9);
	fclose(f);
	assert_memory_equal(buf, "new bytes", 9);
	assert_string_equal(listing(), "out");
	if (tmpfile_ok) /* the old file went in as the path itself; the new one,
			 * the path being there, as path.tmp…, renamed over it */
		assert_int_equal(tmp_names, 1);
}

/* A symbolic link at the path is replaced, never followed: linkat refuses
 * it (EEXIST) and the rename replaces the link itself. */
static void test_a_symlink_at_the_path_is_replaced_not_followed(void **state)
{
	char path[PATH_BUF_MAX], target[PATH_BUF_MAX];
	io_stage_t st;
	struct stat sb;

	(void)state;
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(symlink(target, path), 0); /* dangling */
	assert_int_equal(io_stage_open(&st, path), 0);
	assert_int_equal(io_stage_write(&st, "bytes", 5), 0);
	assert_int_equal(io_stage_commit(&st, path, 0600), 0);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_size, 5);
	assert_string_equal(listing(), "out");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unnamed_while_written_linked_through_proc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_proc_linked_by_empty_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_either_link_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_o_tmpfile_a_named_temp_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing_either_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_keeps_the_old_file_until_the_rename, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_symlink_at_the_path_is_replaced_not_followed,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
