#ifndef CRYPTO_SECRET_H_
#define CRYPTO_SECRET_H_

#include <stddef.h>
#include <stdint.h>

/**
 * crypto_secret_load(path, K):
 * Set ${K} to SHA-256 of the entire contents of the key file ${path} (any
 * length), or of standard input if ${path} is "-".  Return 0 on success;
 * on failure print a clear error naming ${path} to stderr and return -1.
 */
int crypto_secret_load(const char * path, uint8_t K[32]);

/**
 * crypto_secret_load_len(path, K, lenp):
 * As crypto_secret_load(${path}, ${K}), and on success set ${lenp} to the
 * number of bytes hashed (0 for an empty file or input: a key anyone can
 * compute).
 */
int crypto_secret_load_len(const char * path, uint8_t K[32], size_t * lenp);

#endif /* !CRYPTO_SECRET_H_ */
