#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_pair.h"

static int
pair_is_sock(int fd)
{
	struct stat sb;

	return (fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
}

static int
pair_dir_init(struct rp_dir * d, struct rp_pair * p, int in, int out,
    int seal, const uint8_t enc[32], const uint8_t mac[32])
{

	d->pair = p;
	d->infd = in;
	d->outfd = out;
	d->in_sock = pair_is_sock(in);
	d->out_sock = pair_is_sock(out);
	d->seal = seal;
	d->slot = -1;
	/* Sealing reads one batch of plaintext at a time; opening reads a
	 * little more than a batch (64 packets), so that the packet cut by
	 * the end of a read can complete with the next. */
	d->rcap = seal ? RP_PAIR_SEAL_PKTS * CRYPTO_PKT_PTMAX :
	    (RP_PAIR_OPEN_PKTS + 1) * CRYPTO_PKT_LEN;
	if ((d->key = crypto_pktkey_new(enc, mac)) == NULL)
		goto err0;
	/* + slack: sealing reads 4 bytes past a full packet's data. */
	if ((d->rbuf = malloc(d->rcap + 16)) == NULL)
		goto err1;
	return (0);

err1:
	crypto_pktkey_free(d->key);
err0:
	return (-1);
}

/**
 * rp_pair_new(plain_in, plain_out, cipher, keys_send_enc, keys_send_mac,
 *     keys_recv_enc, keys_recv_mac):
 * Create a pair that reads plaintext from ${plain_in}, sends packets to
 * ${cipher}, and writes what it opens from ${cipher} to ${plain_out}
 * (${plain_in} may equal ${plain_out}).  The four 32-byte keys are
 * expanded.  Return NULL on failure.
 */
struct rp_pair *
rp_pair_new(int plain_in, int plain_out, int cipher,
    const uint8_t send_enc[32], const uint8_t send_mac[32],
    const uint8_t recv_enc[32], const uint8_t recv_mac[32])
{
	struct rp_pair * p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto err0;
	p->fds[0] = plain_in;
	p->fds[1] = (plain_out != plain_in) ? plain_out : -1;
	p->fds[2] = cipher;
	if (pair_dir_init(&p->dir[0], p, plain_in, cipher, 1, send_enc,
	    send_mac))
		goto err1;
	if (pair_dir_init(&p->dir[1], p, cipher, plain_out, 0, recv_enc,
	    recv_mac))
		goto err2;
	return (p);

err2:
	free(p->dir[0].rbuf);
	crypto_pktkey_free(p->dir[0].key);
err1:
	free(p);
err0:
	return (NULL);
}

/**
 * rp_pair_publish(p):
 * Mark ${p} as fully built before it is handed to a worker (release).
 */
void
rp_pair_publish(struct rp_pair * p)
{

	atomic_store_explicit(&p->handoff, 1, memory_order_release);
}

/**
 * rp_pair_adopt(p):
 * Take ${p} over on the worker that received it (acquire).
 */
void
rp_pair_adopt(struct rp_pair * p)
{

	(void)atomic_load_explicit(&p->handoff, memory_order_acquire);
}

/**
 * rp_pair_free(p):
 * Close ${p}'s descriptors and free it with its buffers and keys.
 */
void
rp_pair_free(struct rp_pair * p)
{
	int i;

	for (i = 0; i < 3; i++)
		if (p->fds[i] != -1)
			close(p->fds[i]);
	for (i = 0; i < 2; i++) {
		free(p->dir[i].rbuf);
		crypto_pktkey_free(p->dir[i].key);
	}
	free(p);
}

/**
 * rp_pair_discard(p):
 * Free ${p} with its buffers and keys but leave its descriptors open (the
 * caller still owns them: the hand-off failed).
 */
void
rp_pair_discard(struct rp_pair * p)
{

	p->fds[0] = p->fds[1] = p->fds[2] = -1;
	rp_pair_free(p);
}
