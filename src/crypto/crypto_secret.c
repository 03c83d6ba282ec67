#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto_secret.h"
#include "crypto_wipe.h"

/* Name used in error messages (the running program's name). */
#define PROGNAME program_invocation_short_name

/**
 * crypto_secret_load(path, K):
 * Set ${K} to SHA-256 of the entire contents of the key file ${path} (any
 * length), or of standard input if ${path} is "-".  Return 0 on success;
 * on failure print a clear error naming ${path} to stderr and return -1.
 */
int
crypto_secret_load(const char * path, uint8_t K[32])
{
	size_t len;

	return (crypto_secret_load_len(path, K, &len));
}

/**
 * crypto_secret_load_len(path, K, lenp):
 * As crypto_secret_load(${path}, ${K}), and on success set ${lenp} to the
 * number of bytes hashed (0 for an empty file or input: a key anyone can
 * compute).
 */
int
crypto_secret_load_len(const char * path, uint8_t K[32], size_t * lenp)
{
	EVP_MD_CTX * ctx;
	FILE * f;
	uint8_t buf[4096];
	size_t lenread, total = 0;
	unsigned int klen;
	int use_stdin = (strcmp(path, "-") == 0);
	const char * name = use_stdin ? "standard input" : path;

	/* Open the key file, or use standard input. */
	if (use_stdin) {
		f = stdin;
	} else if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: cannot open key file %s: %s\n",
		    PROGNAME, path, strerror(errno));
		goto err0;
	}

	/* Set up the hash. */
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		fprintf(stderr, "%s: out of memory hashing key file %s\n",
		    PROGNAME, name);
		goto err1;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "%s: cannot initialise SHA-256 for key %s\n",
		    PROGNAME, name);
		goto err2;
	}

	/* Hash everything up to EOF. */
	while ((lenread = fread(buf, 1, sizeof(buf), f)) > 0) {
		total += lenread;
		if (EVP_DigestUpdate(ctx, buf, lenread) != 1) {
			fprintf(stderr, "%s: SHA-256 failed on key %s\n",
			    PROGNAME, name);
			goto err2;
		}
	}
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "%s: error reading key file %s: %s\n",
		    PROGNAME, name, strerror(errno));
		goto err2;
	}

	/* Produce K. */
	klen = 32;
	if ((EVP_DigestFinal_ex(ctx, K, &klen) != 1) || (klen != 32)) {
		fprintf(stderr, "%s: SHA-256 failed on key %s\n",
		    PROGNAME, name);
		goto err2;
	}

	/* Clean up. */
	EVP_MD_CTX_free(ctx);
	crypto_wipe(buf, sizeof(buf));
	if ((f != stdin) && fclose(f)) {
		fprintf(stderr, "%s: error closing key file %s: %s\n",
		    PROGNAME, name, strerror(errno));
		goto err0;
	}

	/* Success! */
	*lenp = total;
	return (0);

err2:
	EVP_MD_CTX_free(ctx);
err1:
	crypto_wipe(buf, sizeof(buf));
	if (f != stdin)
		fclose(f);
err0:
	crypto_wipe(K, 32);

	/* Failure! */
	return (-1);
}
