#include <sys/mman.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_mem.h"

/* One mapping of /proc/self/smaps, as far as the release needs it. */
struct mem_vma {
	uintptr_t lo, hi;
	int clean_file;		/* file-backed, not writable, named by path */
	long anon_kib;		/* -1 until its Anonymous: line is read */
	long rss_kib;
};

/**
 * mem_vma_release(v, total):
 * Release ${v} if it is a clean read-only file mapping with no page of
 * its own (Anonymous: 0 kB), adding its resident KiB to ${total}.
 */
static void
mem_vma_release(const struct mem_vma * v, size_t * total)
{

	if (!v->clean_file || v->anon_kib != 0 || v->rss_kib <= 0)
		return;

	/*
	 * MADV_DONTNEED on a private file mapping whose pages all still come
	 * from the file only unmaps them: the next access reads the same
	 * bytes from the page cache.  A failure (a locked mapping, say)
	 * leaves the pages where they are, which is harmless.
	 */
	if (madvise((void *)v->lo, v->hi - v->lo, MADV_DONTNEED) == 0)
		*total += (size_t)v->rss_kib;
}

/**
 * mem_vma_parse(line, v):
 * If ${line} starts a mapping ("lo-hi perms offset dev inode path"), fill
 * ${v} from it and return 1; otherwise return 0.
 */
static int
mem_vma_parse(const char * line, struct mem_vma * v)
{
	char perms[5], path[2];
	uintmax_t lo, hi, inode;
	int n;

	path[0] = '\0';
	n = sscanf(line, "%jx-%jx %4s %*x %*x:%*x %ju %1s", &lo, &hi, perms,
	    &inode, path);
	if (n < 4)
		return (0);
	v->lo = (uintptr_t)lo;
	v->hi = (uintptr_t)hi;
	v->clean_file = (n == 5) && (path[0] == '/') && (inode != 0) &&
	    (perms[1] != 'w') && (perms[3] == 'p');
	v->anon_kib = -1;
	v->rss_kib = -1;
	return (1);
}

/**
 * rp_mem_release_startup(void):
 * Drop the page-table entries of the clean read-only file pages start-up
 * touched; return the KiB released.
 */
size_t
rp_mem_release_startup(void)
{
	struct mem_vma v = { .clean_file = 0 };
	char line[4096];
	size_t total = 0;
	long kib;
	FILE * f;

	if ((f = fopen("/proc/self/smaps", "re")) == NULL)
		return (0);

	/*
	 * A mapping's header line is followed by its "Key: value" lines; a
	 * mapping is judged when the next header (or the end) is reached.
	 * Lines longer than the buffer (long paths) are read in pieces; only
	 * a piece that starts a line is parsed.
	 */
	for (int bol = 1; fgets(line, sizeof(line), f) != NULL;
	    bol = (strchr(line, '\n') != NULL)) {
		if (!bol)
			continue;
		if (sscanf(line, "Rss: %ld kB", &kib) == 1)
			v.rss_kib = kib;
		else if (sscanf(line, "Anonymous: %ld kB", &kib) == 1)
			v.anon_kib = kib;
		else {
			struct mem_vma next;

			/* Only a header line parses as "lo-hi perms ...". */
			if (mem_vma_parse(line, &next)) {
				mem_vma_release(&v, &total);
				v = next;
			}
		}
	}
	mem_vma_release(&v, &total);
	fclose(f);
	return (total);
}
