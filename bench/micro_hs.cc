// Micro-benchmarks of the handshake: group 14 key generation, shared
// secret, and a whole client/server handshake pair in memory.
//   make bench-micro BENCH_ARGS=--benchmark_filter=Hs
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <openssl/bn.h>

extern "C" {
#include "crypto_dh.h"
#include "crypto_dh_ifma.h"
#include "crypto_hmac.h"
#include "proto_handshake.h"
}

namespace {

const uint8_t kKey[32] = {1, 2, 3, 4, 5, 6, 7, 8};

// y = 2^x mod p for a fresh x.
void BM_HsDhKeygen(benchmark::State & state) {
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN];

	if (crypto_dh_init())
		state.SkipWithError("crypto_dh_init failed");
	for (auto _ : state) {
		if (crypto_dh_generate(x, y))
			state.SkipWithError("crypto_dh_generate failed");
		benchmark::DoNotOptimize(y);
	}
}
BENCHMARK(BM_HsDhKeygen)->Unit(benchmark::kMicrosecond);

// Z = y_peer^x mod p.
void BM_HsDhShared(benchmark::State & state) {
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN];
	uint8_t x2[CRYPTO_DH_PRIVLEN], y2[CRYPTO_DH_PUBLEN];
	uint8_t Z[CRYPTO_DH_PUBLEN];

	if (crypto_dh_generate(x, y) || crypto_dh_generate(x2, y2))
		state.SkipWithError("crypto_dh_generate failed");
	for (auto _ : state) {
		if (crypto_dh_compute(y2, x, Z))
			state.SkipWithError("crypto_dh_compute failed");
		benchmark::DoNotOptimize(Z);
	}
}
BENCHMARK(BM_HsDhShared)->Unit(benchmark::kMicrosecond);

// Whether crypto_dh's IFMA path can be forced on here; on x86-64 set it to
// ${on} (false: OpenSSL), returning what it was, so that a case can time
// each path side by side and restore the choice crypto_dh_init made.
bool DhForce(benchmark::State & state, bool on, int * was) {
	if (crypto_dh_init()) {
		state.SkipWithError("crypto_dh_init failed");
		return false;
	}
#if defined(__x86_64__)
	if (on && !crypto_dh_ifma_supported()) {
		state.SkipWithError("no AVX-512 IFMA on this CPU");
		return false;
	}
	*was = crypto_dh_ifma_active();
	crypto_dh_ifma_set_active(on);
	return true;
#else
	*was = 0;
	if (on)
		state.SkipWithError("IFMA is x86-64 only");
	return !on;
#endif
}

void DhRestore(int was) {
#if defined(__x86_64__)
	crypto_dh_ifma_set_active(was);
#else
	(void)was;
#endif
}

// crypto_dh_compute (a 256-bit exponent) and crypto_dh_generate_from by
// the path ${ifma} names, whichever crypto_dh_init chose.
void DhPath(benchmark::State & state, bool ifma, bool keygen) {
	uint8_t x[CRYPTO_DH_PRIVLEN], y[CRYPTO_DH_PUBLEN];
	uint8_t x2[CRYPTO_DH_PRIVLEN], y2[CRYPTO_DH_PUBLEN];
	uint8_t Z[CRYPTO_DH_PUBLEN];
	int was;

	if (!DhForce(state, ifma, &was))
		return;
	if (crypto_dh_generate(x, y) || crypto_dh_generate(x2, y2))
		state.SkipWithError("crypto_dh_generate failed");
	for (auto _ : state) {
		if (keygen ? crypto_dh_generate_from(x, Z) :
		    crypto_dh_compute(y2, x, Z))
			state.SkipWithError("crypto_dh failed");
		benchmark::DoNotOptimize(Z);
	}
	DhRestore(was);
	state.SetLabel(std::string("chosen: ") + crypto_dh_path());
}

void BM_DhSharedOpenssl(benchmark::State & state) { DhPath(state, false, false); }
BENCHMARK(BM_DhSharedOpenssl)->Unit(benchmark::kMicrosecond);
void BM_DhSharedIfma(benchmark::State & state) { DhPath(state, true, false); }
BENCHMARK(BM_DhSharedIfma)->Unit(benchmark::kMicrosecond);
void BM_DhKeygenOpenssl(benchmark::State & state) { DhPath(state, false, true); }
BENCHMARK(BM_DhKeygenOpenssl)->Unit(benchmark::kMicrosecond);
void BM_DhKeygenIfma(benchmark::State & state) { DhPath(state, true, true); }
BENCHMARK(BM_DhKeygenIfma)->Unit(benchmark::kMicrosecond);

// One 2048-bit Montgomery product (${sqr}: a square) with OpenSSL.
void DhMulOpenssl(benchmark::State & state, bool sqr) {
	BN_CTX * ctx = BN_CTX_new();
	BN_MONT_CTX * mont = BN_MONT_CTX_new();
	BIGNUM * p = BN_bin2bn(crypto_dh_prime(), CRYPTO_DH_PUBLEN, nullptr);
	BIGNUM * a = BN_new(), * b = BN_new();

	if (!ctx || !mont || !p || !a || !b || !BN_MONT_CTX_set(mont, p, ctx) ||
	    !BN_rand_range(a, p) || !BN_rand_range(b, p)) {
		state.SkipWithError("BN setup failed");
	} else {
		for (auto _ : state) {
			if (!BN_mod_mul_montgomery(a, a, sqr ? a : b, mont, ctx))
				state.SkipWithError("BN_mod_mul_montgomery");
			benchmark::DoNotOptimize(a);
		}
	}
	BN_free(b);
	BN_free(a);
	BN_free(p);
	BN_MONT_CTX_free(mont);
	BN_CTX_free(ctx);
}

// The same with IFMA (radix 2^52, almost-Montgomery).
void DhMulIfma(benchmark::State & state, bool sqr) {
#if defined(__x86_64__)
	struct crypto_dh_ifma_num a, b;
	uint8_t le[256];
	int was;

	if (!DhForce(state, true, &was))
		return;
	DhRestore(was);
	for (size_t i = 0; i < sizeof(le); i++)
		le[i] = static_cast<uint8_t>(i * 37 + 11);
	crypto_dh_ifma_from_le(&a, le);
	le[0] ^= 0x5a;
	crypto_dh_ifma_from_le(&b, le);
	for (auto _ : state) {
		crypto_dh_ifma_mul(&a, &a, sqr ? &a : &b);
		benchmark::DoNotOptimize(a);
	}
#else
	(void)sqr;
	state.SkipWithError("IFMA is x86-64 only");
#endif
}

void BM_DhMulOpenssl(benchmark::State & state) { DhMulOpenssl(state, false); }
BENCHMARK(BM_DhMulOpenssl)->Unit(benchmark::kNanosecond);
void BM_DhMulIfma(benchmark::State & state) { DhMulIfma(state, false); }
BENCHMARK(BM_DhMulIfma)->Unit(benchmark::kNanosecond);
void BM_DhSqrOpenssl(benchmark::State & state) { DhMulOpenssl(state, true); }
BENCHMARK(BM_DhSqrOpenssl)->Unit(benchmark::kNanosecond);
void BM_DhSqrIfma(benchmark::State & state) { DhMulIfma(state, true); }
BENCHMARK(BM_DhSqrIfma)->Unit(benchmark::kNanosecond);

// The cheap parts: dhmac (PBKDF2, 64 bytes) and one y MAC.
void BM_HsPbkdf2Hmac(benchmark::State & state) {
	uint8_t salt[320] = {0}, dk[128], mac[32], y[256] = {0};

	for (auto _ : state) {
		crypto_pbkdf2_sha256(kKey, 32, salt, 64, 1, dk, 64);
		crypto_hmac_sha256(dk, 32, y, 256, mac);
		crypto_pbkdf2_sha256(kKey, 32, salt, 320, 1, dk, 128);
		benchmark::DoNotOptimize(mac);
		benchmark::DoNotOptimize(dk);
	}
}
BENCHMARK(BM_HsPbkdf2Hmac)->Unit(benchmark::kMicrosecond);

// Move whatever ${a} has to send into ${b}.
bool Pump(proto_hs * a, proto_hs * b) {
	bool progress = false;
	const uint8_t * o;
	size_t n;

	if (proto_hs_want(a) & PROTO_HS_WANT_COMPUTE) {
		proto_hs_compute(a);
		progress = true;
	}
	if ((o = proto_hs_output(a, &n)) != nullptr) {
		size_t c = proto_hs_input(b, o, n);
		proto_hs_output_done(a, c);
		progress |= (c > 0);
	}
	return progress;
}

// Both ends of one handshake (two key pairs, two shared secrets): the CPU
// one connection costs the two machines together.  handshakes/s is per
// pair; one side alone costs about half.
void HsPair(benchmark::State & state, int nopfs) {
	for (auto _ : state) {
		proto_hs * c = proto_hs_new(PROTO_CLIENT, kKey, nopfs, 0);
		proto_hs * s = proto_hs_new(PROTO_SERVER, kKey, nopfs, 0);
		bool progress = true;
		struct proto_keys k;

		if ((c == nullptr) || (s == nullptr)) {
			state.SkipWithError("proto_hs_new failed");
			break;
		}
		for (int r = 0; progress && r < 50; r++) {
			progress = Pump(c, s);
			progress |= Pump(s, c);
		}
		if (proto_hs_keys(c, &k) || proto_hs_keys(s, &k))
			state.SkipWithError("handshake did not complete");
		proto_hs_free(c);
		proto_hs_free(s);
	}
	state.counters["handshakes/s"] = benchmark::Counter(
	    static_cast<double>(state.iterations()),
	    benchmark::Counter::kIsRate);
}

void BM_HsPair(benchmark::State & state) { HsPair(state, 0); }
BENCHMARK(BM_HsPair)->Unit(benchmark::kMicrosecond);

void BM_HsPairNoPfs(benchmark::State & state) { HsPair(state, 1); }
BENCHMARK(BM_HsPairNoPfs)->Unit(benchmark::kMicrosecond);

}  // namespace
