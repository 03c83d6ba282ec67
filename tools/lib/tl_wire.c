#include "tl_wire.h"

#include <string.h>

static const char hdr_magic[8] = {'R', 'P', 'L', 'O', 'A', 'D', '0', '1'};
static const char trl_magic[8] = {'R', 'P', 'T', 'R', 'L', 'R', '0', '1'};

static void
le64enc(uint8_t *p, uint64_t x)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

static uint64_t
le64dec(const uint8_t *p)
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return (x);
}

void
tl_wire_hdr_encode(const struct tl_wire_hdr *h, uint8_t out[32])
{
	memcpy(out, hdr_magic, 8);
	le64enc(out + 8, h->seed_up);
	le64enc(out + 16, h->seed_down);
	le64enc(out + 24, h->bytes_down);
}

int
tl_wire_hdr_decode(const uint8_t in[32], struct tl_wire_hdr *h)
{
	if (memcmp(in, hdr_magic, 8) != 0)
		return (-1);
	h->seed_up = le64dec(in + 8);
	h->seed_down = le64dec(in + 16);
	h->bytes_down = le64dec(in + 24);
	return (0);
}

void
tl_wire_trl_encode(const struct tl_wire_trl *t, uint8_t out[32])
{
	memcpy(out, trl_magic, 8);
	le64enc(out + 8, t->bytes_up);
	le64enc(out + 16, t->first_bad_up);
	le64enc(out + 24, t->bytes_down);
}

int
tl_wire_trl_decode(const uint8_t in[32], struct tl_wire_trl *t)
{
	if (memcmp(in, trl_magic, 8) != 0)
		return (-1);
	t->bytes_up = le64dec(in + 8);
	t->first_bad_up = le64dec(in + 16);
	t->bytes_down = le64dec(in + 24);
	return (0);
}
