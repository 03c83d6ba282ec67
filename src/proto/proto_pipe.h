#ifndef PROTO_PIPE_H_
#define PROTO_PIPE_H_

/*
 * The data phase of one connection pair, without I/O.
 *
 * A pipe has two independent directions: PROTO_PIPE_SEAL reads plaintext
 * and produces packets; PROTO_PIPE_OPEN reads packets and produces
 * plaintext.  For each direction the pipe owns the packet numbers, the
 * input buffer (plaintext cut into packets, or ciphertext reassembled into
 * whole packets), the output waiting to be sent, end of stream and
 * half-close, errors, and how much more it may read (backpressure).
 *
 * An engine drives it: it asks where to read into (proto_pipe_rx_get) and
 * reports what arrived (proto_pipe_rx_put), or it lends the pipe bytes
 * received into its own buffers (proto_pipe_rx_lend), which the pipe
 * crypts from where they lie and holds only until the batch is done; it
 * gathers crypto jobs from
 * many pipes into one batch (proto_pipe_seal_jobs / proto_pipe_open_jobs),
 * runs the batch, and reports back (proto_pipe_seal_done /
 * proto_pipe_open_done); it asks what to send (proto_pipe_tx_get) and
 * reports what went out (proto_pipe_tx_put); and when a direction asks for
 * it, it half-closes the output (proto_pipe_shut_done).
 *
 * Buffers start small and grow while a direction streams, within a budget
 * shared by the pipes of one engine thread; they shrink back when the
 * direction goes quiet.  A direction with nothing buffered and no read,
 * crypto or send out holds no data buffer.  With coalescing on, the seal direction seals full
 * packets at once but holds a part-filled one until it fills, the input
 * ends, or it has waited the coalescing time (the wire format is the same:
 * only fewer, fuller packets).  A direction holds only its own buffers: a peer
 * that stops reading stalls that direction alone.
 *
 * Invariants, per direction:
 * - while a read is out (between rx_get and rx_put) the input buffer is not
 *   moved or resized, and only the bytes after the pending input are handed
 *   out to it;
 * - while a send is out (between tx_get and tx_put) the output buffer is
 *   not written;
 * - crypto jobs are taken only when the output buffer is empty, and must be
 *   completed (seal_done / open_done) before any other call on that
 *   direction; they never read bytes a read out may be writing;
 * - bytes are lent only while no read is out and the output is empty, and
 *   the next seal_done / open_done ends every lend (what it did not crypt,
 *   a part packet, moves to the pipe's own buffer): the engine may reuse
 *   its buffers once proto_pipe_rx_lent() says so.
 */

#include <stddef.h>
#include <stdint.h>

#include "crypto_pkt.h"

#define PROTO_PIPE_SEAL	0	/* Plaintext in, packets out. */
#define PROTO_PIPE_OPEN	1	/* Packets in, plaintext out. */

/* Bits of proto_pipe_want(). */
#define PROTO_PIPE_WANT_READ	1	/* Room to read into, no EOF yet. */
#define PROTO_PIPE_WANT_CRYPTO	2	/* Input ready and output free. */
#define PROTO_PIPE_WANT_SEND	4	/* Output waiting to be sent. */
#define PROTO_PIPE_WANT_SHUT	8	/* All sent after EOF: half-close. */
#define PROTO_PIPE_DONE		16	/* Finished: EOF forwarded. */

/* The most packets one direction seals or opens in one batch: what fits
 * one 64 KiB TCP segment (65160 bytes with TSO on Ethernet; the loopback
 * MSS is 65483), so one send is one segment. */
#define PROTO_PIPE_SEND_MAX	65160
#define PROTO_PIPE_SEAL_PKTS	(PROTO_PIPE_SEND_MAX / CRYPTO_PKT_LEN)
#define PROTO_PIPE_OPEN_PKTS	(PROTO_PIPE_SEND_MAX / CRYPTO_PKT_PTMAX)

/* What the pipes of one engine thread share (single-threaded: plain
 * fields): the budget of buffer memory beyond the smallest size, the
 * thread's clock, how long a part-filled packet may wait for more, where
 * data buffers come from (NULL hooks: the heap), and whether the engine
 * lends its input (the pipes' own input buffers then stay at their
 * smallest, and the budget counts their output).  A buffer is given back
 * to the hooks that gave it, with the length asked for.  ${lend} must not
 * change while pipes use the environment. */
struct proto_pipe_env {
	size_t used;
	size_t limit;
	uint64_t now;		/* Monotonic ns, set by the engine. */
	uint64_t coalesce;	/* Hold a part packet this many ns; 0: never. */
	void * (* balloc)(void * barg, size_t len);
	void (* brelease)(void * barg, void * buf, size_t len);
	void * barg;
	int lend;		/* Input comes by proto_pipe_rx_lend. */
};

/* Bytes before lent input that the pipe may overwrite: the part packet
 * that the input before ends with moves there. */
#define PROTO_PIPE_LEND_BEFORE	CRYPTO_PKT_LEN

struct proto_pipe;

/**
 * proto_pipe_new(send_enc, send_mac, recv_enc, recv_mac, env):
 * Create a pipe that seals with the keys ${send_enc}/${send_mac} and opens
 * with ${recv_enc}/${recv_mac} (32 bytes each), growing its buffers within
 * the budget of ${env} and coalescing as it says (${env} must outlive the
 * pipe; NULL: never grow, never hold).  Return NULL on failure.
 */
struct proto_pipe * proto_pipe_new(const uint8_t send_enc[32],
    const uint8_t send_mac[32], const uint8_t recv_enc[32],
    const uint8_t recv_mac[32], struct proto_pipe_env * env);

/**
 * proto_pipe_set_env(p, env):
 * Make ${p} use ${env} from now on (an engine thread that adopts a pipe
 * made elsewhere), moving the bytes it buffers into buffers from ${env}.
 * Return 0, or -1 if no buffer could be had (${p} then fails).
 */
int proto_pipe_set_env(struct proto_pipe * p, struct proto_pipe_env * env);

/**
 * proto_pipe_prefix(p, buf, len):
 * Put the ${len} bytes at ${buf} ahead of all plaintext ${p} will read on
 * its seal direction (a PROXY protocol header, say).  Only before the
 * first read, and ${len} at most CRYPTO_PKT_PTMAX.  Return 0, or -1 if
 * that does not hold.
 */
int proto_pipe_prefix(struct proto_pipe * p, const uint8_t * buf,
    size_t len);

/**
 * proto_pipe_deadline(p):
 * Return the time (env->now scale) at which ${p}'s seal direction stops
 * holding a part-filled packet and wants crypto, or 0 if it holds none.
 * The engine must pump ${p} again once its clock reaches that time.
 */
uint64_t proto_pipe_deadline(const struct proto_pipe * p);

/**
 * proto_pipe_free(p):
 * Wipe and free ${p} with its keys and buffers.  NULL is a no-op.
 */
void proto_pipe_free(struct proto_pipe * p);

/**
 * proto_pipe_want(p, d):
 * Return what direction ${d} of ${p} needs now, as PROTO_PIPE_* bits.
 */
int proto_pipe_want(const struct proto_pipe * p, int d);

/**
 * proto_pipe_failed(p):
 * Return non-zero if ${p} failed (a bad packet, EOF inside a packet, or an
 * I/O error reported by the engine): the pair must be closed at once.
 */
int proto_pipe_failed(const struct proto_pipe * p);

/**
 * proto_pipe_finished(p):
 * Return non-zero if ${p} failed or both directions are done.
 */
int proto_pipe_finished(const struct proto_pipe * p);

/* How a pipe ended (proto_pipe_end). */
#define PROTO_PIPE_END_EOF		0	/* Both ways to EOF, or not yet. */
#define PROTO_PIPE_END_IO		1	/* Reset or I/O error. */
#define PROTO_PIPE_END_BAD_PACKET	2	/* MAC or length did not verify. */
#define PROTO_PIPE_END_TRUNCATED	3	/* EOF inside a packet. */
#define PROTO_PIPE_END_NOMEM		4	/* No memory for a buffer. */
#define PROTO_PIPE_END_N		5

/**
 * proto_pipe_end(p):
 * Return how ${p} ended or is ending: PROTO_PIPE_END_EOF if it has not
 * failed, else the PROTO_PIPE_END_* reason of the failure.
 */
int proto_pipe_end(const struct proto_pipe * p);

/**
 * proto_pipe_fail(p):
 * Mark ${p} failed (the engine saw an I/O error on one of its sockets).
 */
void proto_pipe_fail(struct proto_pipe * p);

/**
 * proto_pipe_rx_get(p, d, len):
 * If direction ${d} of ${p} wants to read, make room, mark a read out and
 * return where it goes, with its most bytes in *${len}; else return NULL.
 * The read must be ended with proto_pipe_rx_put().
 */
uint8_t * proto_pipe_rx_get(struct proto_pipe * p, int d, size_t * len);

/**
 * proto_pipe_rx_put(p, d, n):
 * End the read out on direction ${d} of ${p}: ${n} > 0 bytes arrived, 0 is
 * end of stream, -1 is an error (the pipe fails).  Cancelled or retried
 * reads (EAGAIN, EINTR) are reported as proto_pipe_rx_abort().
 */
void proto_pipe_rx_put(struct proto_pipe * p, int d, ptrdiff_t n);

/**
 * proto_pipe_rx_lend(p, d, buf, len, before, after):
 * Lend direction ${d} of ${p} the ${len} received bytes at ${buf}, of
 * which it takes what its next crypto batch will use: return how many (0
 * if it takes none now).  ${before} bytes before ${buf} (at least
 * PROTO_PIPE_LEND_BEFORE) may be overwritten, and ${after} bytes after
 * ${buf}[len - 1] may be read.  The bytes taken stay the engine's memory,
 * lent until proto_pipe_rx_lent() says the pipe holds none.  Only when
 * ${p}'s environment lends, and only into an empty output: a batch crypts
 * all that is lent, and its end gives it all back.
 */
size_t proto_pipe_rx_lend(struct proto_pipe * p, int d, uint8_t * buf,
    size_t len, size_t before, size_t after);

/**
 * proto_pipe_rx_takes(p, d):
 * Return non-zero if direction ${d} of ${p} would take input now (lent
 * input only into an empty output, read input while it has room).
 */
int proto_pipe_rx_takes(const struct proto_pipe * p, int d);

/**
 * proto_pipe_rx_cap(p, d):
 * Return the most input bytes direction ${d} of ${p} takes for one batch
 * at its present size.
 */
size_t proto_pipe_rx_cap(const struct proto_pipe * p, int d);

/**
 * proto_pipe_rx_lent(p, d):
 * Return non-zero while direction ${d} of ${p} holds bytes lent to it.
 */
int proto_pipe_rx_lent(const struct proto_pipe * p, int d);

/**
 * proto_pipe_rx_eof(p, d):
 * The input of direction ${d} of ${p} has ended (nothing is lent or out).
 */
void proto_pipe_rx_eof(struct proto_pipe * p, int d);

/**
 * proto_pipe_rx_abort(p, d):
 * End the read out on direction ${d} of ${p} with nothing read and no
 * change of state (it was cancelled or would have blocked).
 */
void proto_pipe_rx_abort(struct proto_pipe * p, int d);

/**
 * proto_pipe_seal_jobs(p, jobs, max):
 * If the seal direction of ${p} wants crypto, describe at most ${max}
 * packets to seal in ${jobs} and return how many (0 if none); they must be
 * run and reported with proto_pipe_seal_done() before ${p} is used again.
 */
size_t proto_pipe_seal_jobs(struct proto_pipe * p,
    struct crypto_seal_job * jobs, size_t max);

/**
 * proto_pipe_seal_done(p, n):
 * The ${n} jobs last taken from ${p}'s seal direction have run: queue the
 * packets for sending.
 */
void proto_pipe_seal_done(struct proto_pipe * p, size_t n);

/**
 * proto_pipe_open_jobs(p, jobs, max):
 * If the open direction of ${p} wants crypto, describe at most ${max}
 * whole packets to open in ${jobs} and return how many (0 if none); they
 * must be run and reported with proto_pipe_open_done() before ${p} is used
 * again.
 */
size_t proto_pipe_open_jobs(struct proto_pipe * p,
    struct crypto_open_job * jobs, size_t max);

/**
 * proto_pipe_open_done(p, jobs, n):
 * The ${n} jobs at ${jobs}, last taken from ${p}'s open direction, have
 * run: queue their plaintext for sending, or fail ${p} if any did not
 * verify.  Return 0, or -1 if ${p} failed.
 */
int proto_pipe_open_done(struct proto_pipe * p,
    const struct crypto_open_job * jobs, size_t n);

/**
 * proto_pipe_tx_get(p, d, len):
 * If direction ${d} of ${p} has output to send and no send is out, mark a
 * send out and return its bytes, with their number in *${len}; else return
 * NULL.  The send must be ended with proto_pipe_tx_put().
 */
const uint8_t * proto_pipe_tx_get(struct proto_pipe * p, int d,
    size_t * len);

/**
 * proto_pipe_tx_put(p, d, n):
 * End the send out on direction ${d} of ${p}: ${n} >= 0 bytes went out
 * (the rest stays queued), or -1 on an error (the pipe fails).
 */
void proto_pipe_tx_put(struct proto_pipe * p, int d, ptrdiff_t n);

/**
 * proto_pipe_shut_done(p, d):
 * The engine half-closed the output of direction ${d} of ${p}, which asked
 * for it with PROTO_PIPE_WANT_SHUT: that direction is done.
 */
void proto_pipe_shut_done(struct proto_pipe * p, int d);

/**
 * proto_pipe_memory(p):
 * Return the bytes of buffer memory ${p} holds now.
 */
size_t proto_pipe_memory(const struct proto_pipe * p);

#endif /* !PROTO_PIPE_H_ */
