/*
 * Framing of the spiped data stream (no I/O): plaintext into seal jobs,
 * received ciphertext into whole packets.
 */
#include <assert.h>
#include <string.h>

#include "crypto_pkt.h"
#include "proto_frame.h"

/**
 * proto_frame_npkts(len):
 * Return the number of packets ${len} plaintext bytes take (0 for 0).
 */
size_t
proto_frame_npkts(size_t len)
{

	return ((len + PROTO_FRAME_PTMAX - 1) / PROTO_FRAME_PTMAX);
}

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
size_t
proto_frame_seal_jobs(const struct crypto_pktkey * key, uint64_t * pnum,
    const uint8_t * pt, size_t len, uint8_t * out,
    struct crypto_seal_job * jobs, size_t maxjobs, size_t * consumed)
{
	size_t n, off;

	for (n = off = 0; (n < maxjobs) && (off < len); n++) {
		jobs[n].key = key;
		jobs[n].pt = &pt[off];
		jobs[n].len = (len - off < PROTO_FRAME_PTMAX) ? len - off :
		    PROTO_FRAME_PTMAX;
		jobs[n].pnum = *pnum + n;
		jobs[n].out = &out[n * PROTO_FRAME_PKTLEN];
		off += jobs[n].len;
	}
	*pnum += n;
	*consumed = off;
	return (n);
}

/**
 * proto_frame_open_jobs(key, pnum, in, npkts, jobs):
 * Describe in ${jobs} the opening in place of the ${npkts} packets at ${in}
 * (packet i at ${in} + i * PROTO_FRAME_PKTLEN) under ${key}, with packet
 * numbers *${pnum}, *${pnum} + 1, ...; advance *${pnum} by ${npkts}.  After
 * crypto_engine_open(), packet i's plaintext is at the start of its slot.
 */
void
proto_frame_open_jobs(const struct crypto_pktkey * key, uint64_t * pnum,
    uint8_t * in, size_t npkts, struct crypto_open_job * jobs)
{
	size_t i;

	for (i = 0; i < npkts; i++) {
		jobs[i].key = key;
		jobs[i].in = &in[i * PROTO_FRAME_PKTLEN];
		jobs[i].pnum = *pnum + i;
		jobs[i].out = &in[i * PROTO_FRAME_PKTLEN];
		jobs[i].len = -1;
	}
	*pnum += npkts;
}

/**
 * proto_frame_rx_init(rx, buf, cap):
 * Make ${rx} an empty reassembler over the ${cap} bytes at ${buf}.  Return
 * -1 if ${cap} is less than PROTO_FRAME_PKTLEN, else 0.
 */
int
proto_frame_rx_init(struct proto_frame_rx * rx, uint8_t * buf, size_t cap)
{

	if (cap < PROTO_FRAME_PKTLEN)
		return (-1);
	rx->buf = buf;
	rx->cap = cap;
	rx->len = 0;
	return (0);
}

/**
 * proto_frame_rx_space(rx, avail):
 * Return where the next received bytes go, and store in *${avail} how many
 * fit (0 when full: consume packets first).
 */
uint8_t *
proto_frame_rx_space(const struct proto_frame_rx * rx, size_t * avail)
{

	*avail = rx->cap - rx->len;
	return (&rx->buf[rx->len]);
}

/**
 * proto_frame_rx_commit(rx, n):
 * Record that ${n} bytes (at most the space last reported) were received
 * at proto_frame_rx_space().
 */
void
proto_frame_rx_commit(struct proto_frame_rx * rx, size_t n)
{

	assert(n <= rx->cap - rx->len);
	rx->len += n;
}

/**
 * proto_frame_rx_npkts(rx):
 * Return the number of complete packets at the start of ${rx}'s buffer.
 */
size_t
proto_frame_rx_npkts(const struct proto_frame_rx * rx)
{

	return (rx->len / PROTO_FRAME_PKTLEN);
}

/**
 * proto_frame_rx_consume(rx, k):
 * Drop the first ${k} (at most proto_frame_rx_npkts()) packets of ${rx} and
 * move the bytes after them to the front of its buffer.
 */
void
proto_frame_rx_consume(struct proto_frame_rx * rx, size_t k)
{
	size_t used = k * PROTO_FRAME_PKTLEN;

	assert(used <= rx->len);
	rx->len -= used;
	if ((rx->len > 0) && (used > 0))
		memmove(rx->buf, &rx->buf[used], rx->len);
}
