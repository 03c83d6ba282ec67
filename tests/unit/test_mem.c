/*
 * rp_mem_release_startup (src/ring/rp_mem.c): the resident pages of a
 * clean read-only file mapping go, and read back the same bytes; a private
 * file mapping this process wrote to keeps its pages and its changes; so
 * does a read-only mapping that holds a changed page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "rp_mem.h"

#define NPAGES	64

static long pagesz;

/* A file of NPAGES pages of a known pattern, unlinked; return its fd. */
static int
pattern_file(void)
{
	char path[] = "/tmp/test_mem.XXXXXX";
	unsigned char * buf;
	size_t len = (size_t)pagesz * NPAGES;
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_non_null(buf = malloc(len));
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + i / 4096);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	free(buf);
	return (fd);
}

/* The KiB of Rss /proc/self/smaps gives the mapping that starts at p. */
static long
rss_kib(const void * p)
{
	char line[512], head[32];
	long kib = -1, v;
	int in = 0;
	FILE * f;

	snprintf(head, sizeof(head), "%lx-", (unsigned long)(uintptr_t)p);
	assert_non_null(f = fopen("/proc/self/smaps", "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, head, strlen(head)) == 0)
			in = 1;
		else if (in && sscanf(line, "Rss: %ld kB", &v) == 1) {
			kib = v;
			break;
		}
	}
	fclose(f);
	return (kib);
}

/* A sum of every byte, touching every page. */
static unsigned long
sum(const unsigned char * p, size_t len)
{
	unsigned long s = 0;

	for (size_t i = 0; i < len; i++)
		s += p[i] * (i % 251 + 1);
	return (s);
}

/* Read-only file pages go, and the same bytes come back. */
static void
test_clean_released(void ** state)
{
	size_t len = (size_t)pagesz * NPAGES;
	unsigned long before;
	unsigned char * p;
	int fd = pattern_file();

	(void)state;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	before = sum(p, len);
	assert_true(rss_kib(p) >= NPAGES * pagesz / 1024);
	assert_true(rp_mem_release_startup() >= (size_t)(NPAGES * pagesz / 1024));
	assert_int_equal(rss_kib(p), 0);
	assert_int_equal(sum(p, len), before);
	munmap(p, len);
	close(fd);
}

/* Writable private mappings, and read-only ones holding a changed page,
 * keep their pages and what was written. */
static void
test_changed_kept(void ** state)
{
	size_t len = (size_t)pagesz * NPAGES;
	unsigned char * w, * ro;
	unsigned long sw, sro;
	int fd = pattern_file();

	(void)state;
	w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ro = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(w != MAP_FAILED && ro != MAP_FAILED);
	memset(w + 3 * pagesz, 0xa5, (size_t)pagesz);
	memset(ro + 5 * pagesz, 0x5a, (size_t)pagesz);

	/* As a relocated RELRO segment is: written, then made read-only. */
	assert_int_equal(mprotect(ro, len, PROT_READ), 0);
	sw = sum(w, len);
	sro = sum(ro, len);
	rp_mem_release_startup();
	assert_true(rss_kib(w) >= NPAGES * pagesz / 1024);
	assert_true(rss_kib(ro) >= NPAGES * pagesz / 1024);
	assert_int_equal(sum(w, len), sw);
	assert_int_equal(sum(ro, len), sro);
	assert_int_equal(w[3 * pagesz + 17], 0xa5);
	assert_int_equal(ro[5 * pagesz + 17], 0x5a);
	munmap(w, len);
	munmap(ro, len);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_released),
		cmocka_unit_test(test_changed_kept),
	};

	pagesz = sysconf(_SC_PAGESIZE);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
