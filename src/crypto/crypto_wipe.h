#ifndef CRYPTO_WIPE_H_
#define CRYPTO_WIPE_H_

/*
 * Wiping secrets (OpenSSL's cleanse) and reading entropy (getrandom(2),
 * a block per thread), behind names of their own (spiped calls them
 * insecure_memzero and crypto_entropy), so the layers above do not
 * depend on OpenSSL's headers.
 */

#include <stddef.h>
#include <stdint.h>

/**
 * crypto_wipe(buf, len):
 * Overwrite the ${len} bytes at ${buf} with zeros in a way the compiler may
 * not optimize away.
 */
void crypto_wipe(void * buf, size_t len);

/**
 * crypto_entropy_read(buf, len):
 * Fill the ${len} bytes at ${buf} with cryptographically secure random
 * bytes.  Return 0 on success, -1 on failure.
 */
int crypto_entropy_read(uint8_t * buf, size_t len);

#endif /* !CRYPTO_WIPE_H_ */
