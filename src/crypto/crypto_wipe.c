#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "crypto_wipe.h"

/*
 * Entropy comes from getrandom(2), a block at a time per thread: a
 * handshake takes a 32-byte nonce, and a system call per handshake (or
 * OpenSSL's DRBG, which asks getpid(2) on every call to detect a fork)
 * is a measurable share of a short connection.  Bytes are wiped as they
 * are handed out, so the block holds only bytes never given to anyone;
 * a forked child forgets the block its parent's thread had (atfork).
 */
#define ENT_BLOCK	256

static __thread struct {
	uint8_t buf[ENT_BLOCK];
	size_t left;			/* Unused bytes, at the end of buf. */
} ent;
static pthread_once_t ent_once = PTHREAD_ONCE_INIT;
static int ent_forks;			/* pthread_atfork failed. */

/* In a forked child: forget the parent thread's block. */
static void
ent_forget(void)
{

	crypto_wipe(ent.buf, sizeof(ent.buf));
	ent.left = 0;
}

/* Once per process: register ent_forget for forks. */
static void
ent_init(void)
{

	ent_forks = pthread_atfork(NULL, NULL, ent_forget) != 0;
}

/* Fill the ${len} bytes at ${buf} from getrandom(2); -1 on failure. */
static int
ent_getrandom(uint8_t * buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = getrandom(buf, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/**
 * crypto_wipe(buf, len):
 * Overwrite the ${len} bytes at ${buf} with zeros in a way the compiler may
 * not optimize away.
 */
void
crypto_wipe(void * buf, size_t len)
{

	OPENSSL_cleanse(buf, len);
}

/**
 * crypto_entropy_read(buf, len):
 * Fill the ${len} bytes at ${buf} with cryptographically secure random
 * bytes.  Return 0 on success, -1 on failure.
 */
int
crypto_entropy_read(uint8_t * buf, size_t len)
{
	uint8_t * p;
	size_t n;

	(void)pthread_once(&ent_once, ent_init);
	/* Without the fork hook, or for a large request, no block. */
	if (ent_forks || len > ENT_BLOCK / 4)
		return (ent_getrandom(buf, len));
	while (len > 0) {
		if (ent.left == 0) {
			if (ent_getrandom(ent.buf, ENT_BLOCK))
				return (-1);
			ent.left = ENT_BLOCK;
		}
		n = len < ent.left ? len : ent.left;
		p = &ent.buf[ENT_BLOCK - ent.left];
		memcpy(buf, p, n);
		crypto_wipe(p, n);
		ent.left -= n;
		buf += n;
		len -= n;
	}
	return (0);
}
