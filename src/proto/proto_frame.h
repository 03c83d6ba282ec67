#ifndef PROTO_FRAME_H_
#define PROTO_FRAME_H_

/*
 * Framing of the spiped data stream, without I/O: cutting plaintext into
 * packets to seal, and reassembling 1060-byte ciphertext packets from reads
 * that end anywhere.  Packets are laid out back to back, packet i at byte
 * i * PROTO_FRAME_PKTLEN of a buffer.
 */

#include <stddef.h>
#include <stdint.h>

#include "crypto_pkt.h"

#define PROTO_FRAME_PKTLEN CRYPTO_PKT_LEN	/* Wire bytes a packet. */
#define PROTO_FRAME_PTMAX CRYPTO_PKT_PTMAX	/* Plaintext bytes a packet. */

/**
 * proto_frame_npkts(len):
 * Return the number of packets ${len} plaintext bytes take (0 for 0).
 */
size_t proto_frame_npkts(size_t len);

/**
 * proto_frame_seal_jobs(key, pnum, pt, len, out, jobs, maxjobs, consumed):
 * Cut the ${len} plaintext bytes at ${pt} into packets of PROTO_FRAME_PTMAX
 * bytes (the last one shorter), at most ${maxjobs} of them, and describe
 * them in ${jobs}: job i seals bytes [i * 1024, ...) of ${pt} under ${key}
 * with packet number *${pnum} + i into ${out} + i * PROTO_FRAME_PKTLEN.
 * Advance *${pnum} by the number of jobs, store in *${consumed} the number
 * of plaintext bytes the jobs cover, and return the number of jobs.  ${out}
 * must have room for that many packets and must not overlap ${pt}.  With
 * ${len} == 0 or ${maxjobs} == 0 this makes no job.
 */
size_t proto_frame_seal_jobs(const struct crypto_pktkey * key,
    uint64_t * pnum, const uint8_t * pt, size_t len, uint8_t * out,
    struct crypto_seal_job * jobs, size_t maxjobs, size_t * consumed);

/**
 * proto_frame_open_jobs(key, pnum, in, npkts, jobs):
 * Describe in ${jobs} the opening in place of the ${npkts} packets at ${in}
 * (packet i at ${in} + i * PROTO_FRAME_PKTLEN) under ${key}, with packet
 * numbers *${pnum}, *${pnum} + 1, ...; advance *${pnum} by ${npkts}.  After
 * crypto_engine_open(), packet i's plaintext is at the start of its slot.
 */
void proto_frame_open_jobs(const struct crypto_pktkey * key,
    uint64_t * pnum, uint8_t * in, size_t npkts,
    struct crypto_open_job * jobs);

/*
 * Reassembly of received ciphertext over a caller-provided buffer: receive
 * into proto_frame_rx_space(), report with proto_frame_rx_commit(), open
 * the proto_frame_rx_npkts() complete packets at ${buf}, then drop them
 * with proto_frame_rx_consume(), which moves any partial packet to the
 * front.  ${len} bytes at ${buf} hold data; ${cap} >= PROTO_FRAME_PKTLEN.
 */
struct proto_frame_rx {
	uint8_t * buf;
	size_t cap;
	size_t len;
};

/**
 * proto_frame_rx_init(rx, buf, cap):
 * Make ${rx} an empty reassembler over the ${cap} bytes at ${buf}.  Return
 * -1 if ${cap} is less than PROTO_FRAME_PKTLEN, else 0.
 */
int proto_frame_rx_init(struct proto_frame_rx * rx, uint8_t * buf,
    size_t cap);

/**
 * proto_frame_rx_space(rx, avail):
 * Return where the next received bytes go, and store in *${avail} how many
 * fit (0 when full: consume packets first).
 */
uint8_t * proto_frame_rx_space(const struct proto_frame_rx * rx,
    size_t * avail);

/**
 * proto_frame_rx_commit(rx, n):
 * Record that ${n} bytes (at most the space last reported) were received
 * at proto_frame_rx_space().
 */
void proto_frame_rx_commit(struct proto_frame_rx * rx, size_t n);

/**
 * proto_frame_rx_npkts(rx):
 * Return the number of complete packets at the start of ${rx}'s buffer.
 */
size_t proto_frame_rx_npkts(const struct proto_frame_rx * rx);

/**
 * proto_frame_rx_consume(rx, k):
 * Drop the first ${k} (at most proto_frame_rx_npkts()) packets of ${rx} and
 * move the bytes after them to the front of its buffer.
 */
void proto_frame_rx_consume(struct proto_frame_rx * rx, size_t k);

#endif /* !PROTO_FRAME_H_ */
