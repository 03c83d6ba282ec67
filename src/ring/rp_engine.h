#ifndef RP_ENGINE_H_
#define RP_ENGINE_H_

/*
 * The data-path engines.  Both drive the same sans-I/O pipe core
 * (proto_pipe) with per-core workers that batch crypto across pairs:
 * io_uring (completions) is the default where the kernel allows it; epoll
 * (readiness, non-blocking recv/send) runs where io_uring is blocked
 * (container seccomp profiles, the io_uring_disabled sysctl, old kernels).
 */

enum rp_engine {
	RP_ENGINE_AUTO = 0,	/* io_uring if usable, else epoll. */
	RP_ENGINE_URING,
	RP_ENGINE_EPOLL
};

/**
 * rp_engine_parse(s, e):
 * Parse the engine name ${s} ("auto", "io_uring" or "epoll") into *${e}.
 * Return 0 on success, -1 if ${s} names no engine.
 */
int rp_engine_parse(const char * s, enum rp_engine * e);

/**
 * rp_engine_resolve(want, got):
 * Decide which engine runs for the request ${want} and store it in *${got}.
 * AUTO probes io_uring and falls
 * back to epoll with one log line naming the cause; an explicit
 * RP_ENGINE_URING that cannot run prints why and fails.
 * Return 0 on success, -1 on failure.
 */
int rp_engine_resolve(enum rp_engine want, enum rp_engine * got);

/**
 * rp_engine_name(e):
 * Return the name of engine ${e} as rp_engine_parse() takes it.
 */
const char * rp_engine_name(enum rp_engine e);

#endif /* !RP_ENGINE_H_ */
