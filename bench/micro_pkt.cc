// Micro-benchmarks of batch packet sealing and opening, per backend and
// batch size.  Bytes/s count the 1024 payload bytes of each packet.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
}

namespace {

enum PktBackend { kOpenssl, kImbAuto, kImbHybrid, kImbOne };

struct crypto_engine * MakeEngine(PktBackend b) {
	switch (b) {
	case kOpenssl:
		return crypto_engine_new(CRYPTO_BACKEND_OPENSSL);
	case kImbAuto:
		return crypto_engine_new_imb(CRYPTO_PKT_IMB_AUTO);
	case kImbHybrid:
		return crypto_engine_new_imb(CRYPTO_PKT_IMB_HYBRID);
	case kImbOne:
		return crypto_engine_new_imb(CRYPTO_PKT_IMB_ONE);
	}
	return nullptr;
}

// Everything one benchmark needs: an engine, a key, n sealed packets.
struct PktBench {
	struct crypto_engine * eng = nullptr;
	struct crypto_pktkey * key = nullptr;
	std::vector<uint8_t> pt, pkts, out;
	std::vector<crypto_seal_job> sj;
	std::vector<crypto_open_job> oj;

	PktBench(PktBackend b, size_t n)
	    : pt(n * CRYPTO_PKT_PTMAX), pkts(n * CRYPTO_PKT_LEN),
	      out(n * CRYPTO_PKT_LEN), sj(n), oj(n) {
		uint8_t e[32], h[32];
		for (int i = 0; i < 32; i++) {
			e[i] = (uint8_t)i;
			h[i] = (uint8_t)(100 + i);
		}
		for (size_t i = 0; i < pt.size(); i++)
			pt[i] = (uint8_t)(i * 7);
		eng = MakeEngine(b);
		key = crypto_pktkey_new(e, h);
		for (size_t i = 0; i < n; i++) {
			sj[i] = {key, &pt[i * CRYPTO_PKT_PTMAX], CRYPTO_PKT_PTMAX,
			    i, &pkts[i * CRYPTO_PKT_LEN]};
			oj[i] = {key, &pkts[i * CRYPTO_PKT_LEN], i,
			    &out[i * CRYPTO_PKT_LEN], 0};
		}
		if (eng != nullptr && key != nullptr &&
		    crypto_engine_seal(eng, sj.data(), n) != 0)
			key = (crypto_pktkey_free(key), nullptr);
	}
	~PktBench() {
		crypto_pktkey_free(key);
		crypto_engine_free(eng);
	}
	bool ok() const { return eng != nullptr && key != nullptr; }
};

// Seal (${seal}) or open n packets per iteration on backend ${b}.
void RunPkt(benchmark::State & state, PktBackend b, bool seal) {
	size_t n = (size_t)state.range(0);
	PktBench pb(b, n);

	if (!pb.ok()) {
		state.SkipWithError("backend unavailable");
		return;
	}
	state.SetLabel(crypto_engine_name(pb.eng));
	for (auto _ : state) {
		bool ok = seal ? crypto_engine_seal(pb.eng, pb.sj.data(), n) == 0 :
		    crypto_engine_open(pb.eng, pb.oj.data(), n) == n;
		if (!ok) {
			state.SkipWithError(seal ? "seal failed" : "open failed");
			break;
		}
		benchmark::ClobberMemory();
	}
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)n *
	    CRYPTO_PKT_PTMAX);
	state.SetItemsProcessed((int64_t)state.iterations() * (int64_t)n);
}

void BM_Seal(benchmark::State & state, PktBackend b) { RunPkt(state, b, true); }
void BM_Open(benchmark::State & state, PktBackend b) { RunPkt(state, b, false); }

}  // namespace

#define PKT_BATCHES Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Arg(64)
BENCHMARK_CAPTURE(BM_Seal, openssl, kOpenssl)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Seal, ipsecmb, kImbAuto)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Seal, ipsecmb_hybrid, kImbHybrid)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Seal, ipsecmb_one, kImbOne)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Open, openssl, kOpenssl)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Open, ipsecmb, kImbAuto)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Open, ipsecmb_hybrid, kImbHybrid)->PKT_BATCHES;
BENCHMARK_CAPTURE(BM_Open, ipsecmb_one, kImbOne)->PKT_BATCHES;
