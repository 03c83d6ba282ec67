#ifndef CRYPTO_DH_TABLE_H_
#define CRYPTO_DH_TABLE_H_

/*
 * The fixed-base tables of 2^x mod p for group 14 (internal to crypto_dh):
 * CRYPTO_DH_TAB_NWIN windows of CRYPTO_DH_TAB_NENT entries of
 * CRYPTO_DH_TAB_ELEN little-endian bytes, T[i][v] = 2^(v 32^i) in
 * OpenSSL's Montgomery form (times 2^2048 mod p).  The build computes
 * them once (scripts/gen_dh_table.c) into crypto_dh_tab, read-only data
 * that every process maps from the program file instead of building its
 * own private copy.
 */

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#define CRYPTO_DH_TAB_WBITS	5	/* Bits per window: wider ones save
					   few multiplications for a table
					   that doubles. */
#define CRYPTO_DH_TAB_NWIN	((256 + CRYPTO_DH_TAB_WBITS - 1) / \
				    CRYPTO_DH_TAB_WBITS)
#define CRYPTO_DH_TAB_NENT	(1 << CRYPTO_DH_TAB_WBITS)
#define CRYPTO_DH_TAB_ELEN	256
#define CRYPTO_DH_TAB_LEN	((size_t)CRYPTO_DH_TAB_NWIN * \
				    CRYPTO_DH_TAB_NENT * CRYPTO_DH_TAB_ELEN)

/* The tables the build computed (generated crypto_dh_tab.c). */
extern const uint8_t crypto_dh_tab[CRYPTO_DH_TAB_LEN];

/**
 * crypto_dh_table_build(tab, mont, nwin):
 * Compute the first ${nwin} windows of the tables for the modulus of the
 * Montgomery context ${mont} into ${tab}
 * (${nwin} x CRYPTO_DH_TAB_NENT x CRYPTO_DH_TAB_ELEN bytes).  Return 0 or
 * -1.
 */
int crypto_dh_table_build(uint8_t * tab, BN_MONT_CTX * mont,
    size_t nwin);

#endif /* !CRYPTO_DH_TABLE_H_ */
