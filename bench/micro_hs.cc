// Micro-benchmarks of the handshake: group 14 key generation, shared
// secret, and a whole client/server handshake pair in memory.
//   make bench-micro BENCH_ARGS=--benchmark_filter=Hs
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>

extern "C" {
#include "crypto_dh.h"
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
