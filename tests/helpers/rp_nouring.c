/*
 * rp-nouring: run a program where io_uring is blocked, as Docker's default
 * seccomp profile (moby#46762) and containerd's RuntimeDefault block it.
 *
 *   rp-nouring [--errno EPERM|EACCES|ENOSYS] PROGRAM [ARGS...]
 *
 * Sets PR_SET_NO_NEW_PRIVS, installs a seccomp-BPF filter under which
 * io_uring_setup, io_uring_enter and io_uring_register fail with EPERM (or
 * the errno given) and every other system call is allowed, then execs
 * PROGRAM in place: the process keeps its pid, so a caller that records $!
 * still names the program.  The filter is inherited by every thread and
 * child and cannot be removed.
 *
 * The filter checks the architecture field first: a system call made
 * through another ABI than the native one (i386 on x86-64, AArch32 on
 * arm64) kills the process, since its numbers are not the ones below.  On
 * x86-64 the x32 bit is masked off, so x32 io_uring calls are blocked too.
 * Exits 127 if it cannot set itself up or exec PROGRAM.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH	AUDIT_ARCH_X86_64
#define NR_MASK		(~0x40000000U)	/* __X32_SYSCALL_BIT off */
#elif defined(__aarch64__)
#define NATIVE_ARCH	AUDIT_ARCH_AARCH64
#define NR_MASK		(~0U)
#else
#error "rp-nouring knows the io_uring system call numbers of x86-64 and arm64 only"
#endif

/* The same numbers on x86-64 and arm64 (and every other Linux ABI). */
#define NR_IO_URING_SETUP	425
#define NR_IO_URING_ENTER	426
#define NR_IO_URING_REGISTER	427

static void
usage(void)
{

	fprintf(stderr, "usage: rp-nouring [--errno EPERM|EACCES|ENOSYS] "
	    "PROGRAM [ARGS...]\n");
	exit(127);
}

/* parse_errno(s): the errno named by ${s}, or -1. */
static int
parse_errno(const char * s)
{

	if (strcmp(s, "EPERM") == 0)
		return (EPERM);
	if (strcmp(s, "EACCES") == 0)
		return (EACCES);
	if (strcmp(s, "ENOSYS") == 0)
		return (ENOSYS);
	return (-1);
}

/**
 * nouring_install(err):
 * Forbid new privileges and install the filter that fails the io_uring
 * system calls with ${err}.  Return 0 on success, -1 on failure.
 */
static int
nouring_install(int err)
{
	struct sock_filter insns[] = {
		/* Another ABI than the native one: kill. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* The system call number, without the x32 bit. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, NR_MASK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_IO_URING_SETUP, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_IO_URING_ENTER, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_IO_URING_REGISTER, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(insns) / sizeof(insns[0])),
		.filter = insns,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("rp-nouring: prctl(PR_SET_NO_NEW_PRIVS)");
		return (-1);
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) {
		perror("rp-nouring: prctl(PR_SET_SECCOMP)");
		return (-1);
	}
	return (0);
}

int
main(int argc, char * argv[])
{
	int err = EPERM;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--errno") == 0) {
		if ((err = parse_errno(argv[i + 1])) == -1)
			usage();
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		usage();
	if (nouring_install(err))
		exit(127);
	execvp(argv[i], &argv[i]);
	fprintf(stderr, "rp-nouring: cannot run %s: %s\n", argv[i],
	    strerror(errno));
	exit(127);
}
