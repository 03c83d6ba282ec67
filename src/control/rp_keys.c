#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_secret.h"
#include "crypto_wipe.h"
#include "rp_keys.h"
#include "rp_log.h"

struct rp_keys {
	char * files[RP_KEYS_MAX];	/* The paths (copies). */
	size_t n;
	uint8_t K_stdin[32];		/* The secret of "-k -", read once. */

	/* mtx guards cur: a reload's rp_keys_set against the control
	 * thread's rp_keys_get. */
	pthread_mutex_t mtx;
	struct rp_keyset cur;
};

/* Set once the process is confined (rp_keys_sandboxed). */
static atomic_int keys_sandboxed;

/**
 * rp_keys_secret(path, K):
 * Set ${K} to the shared secret of the key file ${path} ("-": standard
 * input), warning if it is empty: stock spiped takes an empty key, so it is
 * taken, but its secret is SHA-256 of nothing, which anyone can compute.
 * Return 0, or -1 with a warning printed naming ${path}.
 */
int
rp_keys_secret(const char * path, uint8_t K[32])
{
	const char * name = (strcmp(path, "-") == 0) ? "standard input" : path;
	size_t len;
	int err;

	if (crypto_secret_load_len(path, K, &len)) {
		err = errno;
		rp_warnp("Error reading shared secret from %s", name);

		/* EACCES with the read right granted: Landlock refused it. */
		if (err == EACCES && atomic_load(&keys_sandboxed) &&
		    access(path, R_OK) == 0)
			rp_warn("%s: refused by the sandbox (Landlock): after "
			    "start-up key files are read only from the "
			    "directories of the -k files (a symbolic link "
			    "into another directory is refused); "
			    "--no-sandbox lifts this", name);
		return (-1);
	}
	if (len == 0)
		rp_warn("WARNING: the key from %s is empty (0 bytes): anyone "
		    "can compute its secret; make a key with "
		    "dd if=/dev/urandom bs=32 count=1", name);
	return (0);
}

/* Read key file ${i} of ${keys} into ${K} (standard input's only if
 * ${first}); 0, or -1 with a warning printed. */
static int
keys_read_one(const struct rp_keys * keys, size_t i, int first,
    uint8_t K[32])
{
	const char * path = keys->files[i];

	if (strcmp(path, "-") == 0 && !first) {
		memcpy(K, keys->K_stdin, 32);
		return (0);
	}
	return (rp_keys_secret(path, K));
}

/* Read every key file of ${keys} into ${set} (${first}: the first time,
 * standard input too); 0, or -1 with a warning printed and ${set} wiped. */
static int
keys_read_all(const struct rp_keys * keys, int first, struct rp_keyset * set)
{
	size_t i;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < keys->n; i++)
		if (keys_read_one(keys, i, first, set->K[i]))
			goto err0;
	set->n = keys->n;
	return (0);

err0:
	crypto_wipe(set, sizeof(*set));
	return (-1);
}

/**
 * rp_keys_load(files, n):
 * Read the ${n} (1 to RP_KEYS_MAX) key files ${files} (their paths are
 * copied; at most one of them "-", standard input).  Return the keys,
 * or NULL with a warning printed.
 */
struct rp_keys *
rp_keys_load(const char * const * files, size_t n)
{
	struct rp_keys * keys;
	size_t i, nstdin = 0;

	if (n < 1 || n > RP_KEYS_MAX) {
		rp_warn("Between 1 and %d key files are taken", RP_KEYS_MAX);
		goto err0;
	}
	for (i = 0; i < n; i++)
		nstdin += (strcmp(files[i], "-") == 0);
	if (nstdin > 1) {
		rp_warn("Standard input can give only one key (-k -)");
		goto err0;
	}
	if ((keys = calloc(1, sizeof(*keys))) == NULL) {
		rp_warnp("calloc");
		goto err0;
	}
	for (keys->n = 0; keys->n < n; keys->n++) {
		if ((keys->files[keys->n] = strdup(files[keys->n])) == NULL) {
			rp_warnp("strdup");
			goto err1;
		}
	}
	if (keys_read_all(keys, 1, &keys->cur))
		goto err1;

	/* Keep standard input's secret for reloads. */
	for (i = 0; i < n; i++)
		if (strcmp(files[i], "-") == 0)
			memcpy(keys->K_stdin, keys->cur.K[i], 32);
	if ((errno = pthread_mutex_init(&keys->mtx, NULL)) != 0) {
		rp_warnp("pthread_mutex_init");
		goto err1;
	}
	return (keys);

err1:
	for (i = 0; i < keys->n; i++)
		free(keys->files[i]);
	crypto_wipe(keys, sizeof(*keys));
	free(keys);
err0:
	return (NULL);
}

/**
 * rp_keys_read(keys, set):
 * Read ${keys}' files again into ${set} (the secret from standard input as
 * it was), changing nothing in ${keys}.  Return 0, or -1 with a warning
 * printed naming the file that failed (${set} is then wiped).
 */
int
rp_keys_read(const struct rp_keys * keys, struct rp_keyset * set)
{

	return (keys_read_all(keys, 0, set));
}

/**
 * rp_keys_set(keys, set):
 * Make ${set} (from rp_keys_read) the current secrets of ${keys}.  Safe
 * while other threads call rp_keys_get.
 */
void
rp_keys_set(struct rp_keys * keys, const struct rp_keyset * set)
{

	pthread_mutex_lock(&keys->mtx);
	memcpy(&keys->cur, set, sizeof(*set));
	pthread_mutex_unlock(&keys->mtx);
}

/**
 * rp_keys_get(keys, set):
 * Copy the current secrets of ${keys} into ${set}, which the caller wipes
 * (crypto_wipe) when done.  Safe from any thread.
 */
void
rp_keys_get(struct rp_keys * keys, struct rp_keyset * set)
{

	pthread_mutex_lock(&keys->mtx);
	memcpy(set, &keys->cur, sizeof(*set));
	pthread_mutex_unlock(&keys->mtx);
}

/**
 * rp_keys_check_reload(keys, user):
 * Having dropped privileges to ${user} (-u), check that each key file of
 * ${keys} can still be opened, as a reload (SIGHUP) will open them; warn
 * clearly for each that cannot.  Return the number that cannot.
 */
size_t
rp_keys_check_reload(const struct rp_keys * keys, const char * user)
{
	size_t i, nbad = 0;
	int fd;

	for (i = 0; i < keys->n; i++) {
		if (strcmp(keys->files[i], "-") == 0)
			continue;
		if ((fd = open(keys->files[i], O_RDONLY | O_CLOEXEC)) != -1) {
			close(fd);
			continue;
		}
		rp_warnp("WARNING: key file %s cannot be opened as -u %s, so "
		    "every reload (SIGHUP) will fail and keep the keys read at "
		    "start; let that user read it (e.g. owner root, group of "
		    "the user, mode 0640)", keys->files[i], user);
		nbad++;
	}
	return (nbad);
}

/**
 * rp_keys_sandboxed():
 * The process is confined now (the sandbox): from now on a key file that
 * cannot be opened (EACCES) although access(2), which the sandbox does not
 * govern, says it is readable, is said to be refused by the sandbox.
 */
void
rp_keys_sandboxed(void)
{

	atomic_store(&keys_sandboxed, 1);
}

/**
 * rp_keys_free(keys):
 * Wipe and free ${keys}.  NULL is a no-op.
 */
void
rp_keys_free(struct rp_keys * keys)
{

	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < keys->n; i++)
		free(keys->files[i]);
	pthread_mutex_destroy(&keys->mtx);
	crypto_wipe(keys, sizeof(*keys));
	free(keys);
}
