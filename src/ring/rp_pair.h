#ifndef RP_PAIR_H_
#define RP_PAIR_H_

/*
 * An established connection pair as a worker carries it: two directions,
 * each reading from one descriptor, sealing or opening, and writing to the
 * other.  Made by the control thread (or ringpipe), then owned by exactly
 * one worker for the rest of its life.
 */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto_pkt.h"

struct rp_pair;

/*
 * The most bytes one send carries: what fits one 64 KiB TCP segment (the
 * loopback MSS is 65483; TSO/GSO on Ethernet builds 45 x 1448 = 65160-byte
 * segments).  A 64-packet send (67840 bytes) went out as a full segment
 * plus a 2357-byte one, which costs nearly as much again in the stack
 * (skb, loopback delivery, a wakeup): at most one segment per send made
 * 24% fewer loopback transmits per GB on one connection (the MB/s change
 * was within the noise of A/B runs on the shared test machine).
 */
#define RP_PAIR_SEND_MAX 65160
/* Packets sealed per batch (61: 64660 bytes out) and opened per batch
 * (63: 64512 bytes out) for one direction. */
#define RP_PAIR_SEAL_PKTS (RP_PAIR_SEND_MAX / CRYPTO_PKT_LEN)
#define RP_PAIR_OPEN_PKTS (RP_PAIR_SEND_MAX / CRYPTO_PKT_PTMAX)

/* One direction of a pair. */
struct rp_dir {
	struct rp_pair * pair;
	int infd;		/* Read from here ... */
	int outfd;		/* ... and write the result here. */
	int in_sock;		/* infd is a socket: recv(), else read(). */
	int out_sock;		/* outfd is a socket: send(), else write(). */
	int seal;		/* 1: plaintext -> packets; 0: packets -> text. */
	struct crypto_pktkey * key;
	uint64_t pnum;		/* Next packet number. */

	uint8_t * rbuf;		/* Received bytes: [rhead, rlen) are not yet */
	size_t rcap;		/* sealed/opened; a read in flight lands at */
	size_t rhead;		/* rbuf + rlen, so rbuf is compacted only */
	size_t rlen;		/* while no read is in flight. */

	int slot;		/* Output slot being sent, or -1. */
	size_t slen;		/* Bytes in the slot. */
	size_t soff;		/* Bytes of it sent so far. */
	int zc_notifs;		/* SEND_ZC notifications still to come. */

	unsigned recv_busy:1;	/* A recv/read is in flight. */
	unsigned send_busy:1;	/* A send/write is in flight. */
	unsigned eof:1;		/* Read side reached EOF. */
	unsigned done:1;	/* EOF forwarded (shutdown) or output closed. */
	unsigned queued:1;	/* On the worker's ready or wait list. */

	struct rp_dir * next;	/* Ready/wait list link. */
};

struct rp_pair {
	struct rp_dir dir[2];	/* [0] seals (plain -> cipher), [1] opens. */
	int fds[3];		/* Distinct descriptors to close, -1 unused. */
	int inflight;		/* Operations in flight on the ring. */
	int closing;		/* Being torn down. */
	int failed;		/* Closed on an error (bad packet, reset). */
	int use_zc;		/* Send with SEND_ZC (fixed buffers). */
	struct rp_pair * prev, * next;	/* Worker's list of pairs. */
	atomic_int handoff;	/* Release/acquire across the hand-off. */
};

/**
 * rp_pair_new(plain_in, plain_out, cipher, keys_send_enc, keys_send_mac,
 *     keys_recv_enc, keys_recv_mac):
 * Create a pair that reads plaintext from ${plain_in}, sends packets to
 * ${cipher}, and writes what it opens from ${cipher} to ${plain_out}
 * (${plain_in} may equal ${plain_out}).  The four 32-byte keys are
 * expanded.  Return NULL on failure.
 */
struct rp_pair * rp_pair_new(int plain_in, int plain_out, int cipher,
    const uint8_t send_enc[32], const uint8_t send_mac[32],
    const uint8_t recv_enc[32], const uint8_t recv_mac[32]);

/**
 * rp_pair_publish(p):
 * Mark ${p} as fully built before it is handed to a worker (release).  The
 * hand-off itself goes through the kernel (IORING_OP_MSG_RING), which orders
 * memory but is invisible to ThreadSanitizer; this pair of calls makes the
 * happens-before explicit so TSan checks the data plane without false
 * reports.  It costs one atomic store per connection.
 */
void rp_pair_publish(struct rp_pair * p);

/**
 * rp_pair_adopt(p):
 * Take ${p} over on the worker that received it (acquire; see
 * rp_pair_publish).
 */
void rp_pair_adopt(struct rp_pair * p);

/**
 * rp_pair_discard(p):
 * Free ${p} with its buffers and keys but leave its descriptors open (the
 * caller still owns them: the hand-off failed).
 */
void rp_pair_discard(struct rp_pair * p);

/**
 * rp_pair_free(p):
 * Close ${p}'s descriptors and free it with its buffers and keys.
 */
void rp_pair_free(struct rp_pair * p);

#endif /* !RP_PAIR_H_ */
