// Micro-benchmarks of batch packet sealing and opening: every crypto path
// forced on its own ("openssl", "hybrid", "avx512", ...), and beside them
// the automatic choice ("auto", labelled with the path it runs at that
// batch size), at the batch sizes the worker uses.  Bytes/s count the 1024
// payload bytes of each packet.  PktProbe times the start-up probe that
// makes the automatic choice.
//   make bench-micro BENCH_ARGS=--benchmark_filter=Pkt
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "crypto_pkt.h"
#include "crypto_pkt_internal.h"
}

namespace {

// Everything one benchmark needs: an engine, its key, n sealed packets.
struct PktBench {
	struct crypto_engine * eng = nullptr;
	struct crypto_pktkey * key = nullptr;
	std::vector<uint8_t> pt, pkts, out;
	std::vector<crypto_seal_job> sj;
	std::vector<crypto_open_job> oj;

	PktBench(const char * path, size_t n)
	    : pt(n * CRYPTO_PKT_PTMAX + 4), pkts(n * CRYPTO_PKT_LEN),
	      out(n * CRYPTO_PKT_LEN), sj(n), oj(n) {
		uint8_t e[32], h[32];
		for (int i = 0; i < 32; i++) {
			e[i] = (uint8_t)i;
			h[i] = (uint8_t)(100 + i);
		}
		for (size_t i = 0; i < pt.size(); i++)
			pt[i] = (uint8_t)(i * 7);
		if ((eng = crypto_engine_new_path(path)) == nullptr)
			return;
		key = crypto_pktkey_new_engine(eng, e, h);
		// Full packets sealed from a read buffer, as the worker does.
		for (size_t i = 0; i < n; i++) {
			sj[i] = {key, &pt[i * CRYPTO_PKT_PTMAX], CRYPTO_PKT_PTMAX,
			    i, &pkts[i * CRYPTO_PKT_LEN], CRYPTO_SEAL_PTSLACK};
			oj[i] = {key, &pkts[i * CRYPTO_PKT_LEN], i,
			    &out[i * CRYPTO_PKT_LEN], 0};
		}
		if (key != nullptr && crypto_engine_seal(eng, sj.data(), n) != 0)
			key = (crypto_pktkey_free(key), nullptr);
	}
	~PktBench() {
		crypto_pktkey_free(key);
		crypto_engine_free(eng);
	}
	bool ok() const { return eng != nullptr && key != nullptr; }
};

// The path the automatic choice runs for a chunk of n packets.
std::string AutoLabel(bool seal, size_t n) {
	struct crypto_pkt_plan plan;

	if (crypto_pkt_plan_make("auto", &plan) != 0)
		return "auto: none";
	size_t k = n < CRYPTO_PKT_CHUNK ? n : CRYPTO_PKT_CHUNK;
	return std::string("auto -> ") +
	    crypto_pkt_path_name(seal ? plan.seal[k] : plan.open[k]);
}

// Seal (${seal}) or open n packets per iteration on ${path}.
void RunPkt(benchmark::State & state, const char * path, bool seal) {
	size_t n = (size_t)state.range(0);
	PktBench pb(path, n);

	if (!pb.ok()) {
		state.SkipWithError("path unavailable here");
		return;
	}
	state.SetLabel(strcmp(path, "auto") == 0 ? AutoLabel(seal, n) :
	    crypto_engine_name(pb.eng));
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

// One whole probe of every path (what the first engine of a process pays).
void BM_PktProbe(benchmark::State & state) {
	struct crypto_pkt_probe pr;

	for (auto _ : state) {
		if (crypto_pkt_probe_run(&pr, ~0u) != 0) {
			state.SkipWithError("probe failed");
			break;
		}
		benchmark::DoNotOptimize(pr);
	}
}

// Register Pkt{Seal,Open}/<path> for every path built in, then "auto".
int RegisterPkt() {
	static std::vector<std::string> paths;
	static const int64_t batches[] = {1, 2, 4, 8, 16, 32, 61, 64};

	for (size_t i = 0; crypto_pkt_path_name(i) != nullptr; i++)
		paths.push_back(crypto_pkt_path_name(i));
	paths.push_back("auto");
	for (int seal = 1; seal >= 0; seal--) {
		for (const std::string & p : paths) {
			std::string name = std::string(seal ? "PktSeal/" :
			    "PktOpen/") + p;
			const char * path = p.c_str();
			auto * b = benchmark::RegisterBenchmark(name.c_str(),
			    [path, seal](benchmark::State & st) {
				RunPkt(st, path, seal != 0);
			});
			for (int64_t n : batches)
				b->Arg(n);
		}
	}
	benchmark::RegisterBenchmark("PktProbe", BM_PktProbe)
	    ->Unit(benchmark::kMillisecond);
	return 0;
}
const int registered = RegisterPkt();

}  // namespace
