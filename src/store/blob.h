/*
 * blob.h — content-addressed files for quarantined originals.
 *
 * Layout: ROOT/ab/abcdef0123...  (name = lowercase hex SHA-256 of the bytes,
 * shard = its first two hex digits). Files 0600, directories 0700.
 * A write is atomic and durable: temp file in the shard directory, write,
 * fsync, rename over the final name, fsync of the shard directory.
 * Temp files are named ".tmp-PID-RANDOM"; a writer killed mid-write leaves
 * one behind, and blob_sweep() removes it later.
 *
 * SECURITY: runs in the store-owning process. Names are built only from hex
 * digests we computed, never from input; reads check size and digest.
 */
#ifndef MUGAI_BLOB_H
#define MUGAI_BLOB_H

#include <stdbool.h>
#include <time.h>
#include "common/buf.h"
#include "common/defs.h"

#define BLOB_HEX_LEN 64

/* Lowercase hex SHA-256 of n bytes (common/sha256.h; never fails). */
int blob_sha256(const void *p, size_t n, char out[BLOB_HEX_LEN + 1]) MUGAI_WUR;
/* True when s is 64 lowercase hex digits. */
bool blob_hex_valid(const char *s);
/* Create ROOT (0700) if missing. */
int blob_root_init(const char *root) MUGAI_WUR;
/* Write n bytes as blob hex (computed by the caller). If the blob already
 * exists with the right size it is kept (its directory is fsynced again). */
int blob_write(const char *root, const char *hex, const void *p, size_t n) MUGAI_WUR;
/* *exists: the blob's file is present. */
int blob_exists(const char *root, const char *hex, bool *exists) MUGAI_WUR;
/* Read the blob into out (cap max). *bad: missing, wrong size or wrong digest. */
int blob_read(const char *root, const char *hex, size_t max, buf_t *out, bool *bad) MUGAI_WUR;
/* Unlink the blob (absent is fine) and fsync its directory. */
int blob_remove(const char *root, const char *hex) MUGAI_WUR;

/* Called for each blob file older than the grace period; the callback
 * decides (under its own lock) and removes it with blob_remove(). Returns 1
 * when it removed the blob, 0 when kept, -1 to stop with an error. */
typedef int (*blob_sweep_cb)(const char *hex, void *arg);
/* Walk every shard: remove temp files older than grace seconds, and offer
 * each blob older than grace to cb. *removed counts the callback's 1s. */
int blob_sweep(const char *root, time_t grace, blob_sweep_cb cb, void *arg,
	       long *removed) MUGAI_WUR;

#endif
