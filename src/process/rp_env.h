#ifndef RP_ENV_H_
#define RP_ENV_H_

/*
 * The environment variables the programs honour, read once, in main, into
 * the settings of the libraries below (which read no environment):
 * RINGPIPED_ENGINE (the engine when no --engine was given),
 * RINGPIPED_CRYPTO (the crypto path AUTO engines use; "openssl" also picks
 * the OpenSSL backend for the workers) and RINGPIPED_DH (the Diffie-Hellman
 * arithmetic).
 */

#include "crypto_pkt.h"
#include "rp_engine.h"

/**
 * rp_env_apply(engine, given, backend):
 * Read the environment: store RINGPIPED_ENGINE's engine in ${engine} unless
 * ${given} (--engine was given), the workers' crypto backend in
 * ${backend}, and hand RINGPIPED_CRYPTO and RINGPIPED_DH to the crypto
 * library.  Return 0, or -1 with a warning printed if RINGPIPED_ENGINE
 * names no engine.
 */
int rp_env_apply(enum rp_engine * engine, int given,
    enum crypto_backend * backend);

#endif /* !RP_ENV_H_ */
