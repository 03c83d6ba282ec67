#include <stdint.h>

#include <openssl/bn.h>

#include "crypto_dh_table.h"

/**
 * crypto_dh_table_build(tab, mont, nwin):
 * Compute the first ${nwin} windows of the tables for the modulus of the
 * Montgomery context ${mont} into ${tab}
 * (${nwin} x CRYPTO_DH_TAB_NENT x CRYPTO_DH_TAB_ELEN bytes).  Return 0 or
 * -1.
 */
int
crypto_dh_table_build(uint8_t * tab, BN_MONT_CTX * mont, size_t nwin)
{
	BN_CTX * ctx;
	BIGNUM * base, * cur;
	uint8_t * e;
	size_t i, v;
	int k, rc = -1;

	if ((ctx = BN_CTX_new()) == NULL)
		goto err0;
	base = BN_new();
	cur = BN_new();
	if (base == NULL || cur == NULL)
		goto err1;

	/* base = 2 in Montgomery form. */
	if (!BN_set_word(base, 2) || !BN_to_montgomery(base, base, mont, ctx))
		goto err1;
	for (i = 0; i < nwin; i++) {
		/* T[i][0] = 1, T[i][v] = T[i][v-1] * base_i. */
		if (!BN_set_word(cur, 1) || !BN_to_montgomery(cur, cur, mont,
		    ctx))
			goto err1;
		for (v = 0; v < CRYPTO_DH_TAB_NENT; v++) {
			e = tab + (i * CRYPTO_DH_TAB_NENT + v) *
			    CRYPTO_DH_TAB_ELEN;
			if (v > 0 && !BN_mod_mul_montgomery(cur, cur, base,
			    mont, ctx))
				goto err1;
			if (BN_bn2lebinpad(cur, e, CRYPTO_DH_TAB_ELEN) !=
			    CRYPTO_DH_TAB_ELEN)
				goto err1;
		}
		/* base_{i+1} = base_i^(2^WBITS). */
		for (k = 0; k < CRYPTO_DH_TAB_WBITS; k++)
			if (!BN_mod_mul_montgomery(base, base, base, mont,
			    ctx))
				goto err1;
	}
	rc = 0;

err1:
	BN_free(cur);
	BN_free(base);
	BN_CTX_free(ctx);
err0:
	return (rc);
}
