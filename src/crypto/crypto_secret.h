#ifndef CRYPTO_SECRET_H_
#define CRYPTO_SECRET_H_

#include <stdint.h>

/**
 * crypto_secret_load(path, K):
 * Set ${K} to SHA-256 of the entire contents of the key file ${path} (any
 * length), or of standard input if ${path} is "-".  Return 0 on success;
 * on failure print a clear error naming ${path} to stderr and return -1.
 */
int crypto_secret_load(const char * path, uint8_t K[32]);

#endif /* !CRYPTO_SECRET_H_ */
