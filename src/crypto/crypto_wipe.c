#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto_wipe.h"

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

	if (len > INT_MAX)
		return (-1);
	return (RAND_bytes(buf, (int)len) == 1 ? 0 : -1);
}
