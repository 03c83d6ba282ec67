#ifndef RP_COMPAT_H_
#define RP_COMPAT_H_

/*
 * Kernel io_uring features newer than Debian 12's liburing 2.3 headers.
 * Every hand-rolled definition lives here; callers detect support at run
 * time (io_uring_get_probe, setup flags) and keep a working path without.
 */

#include <liburing.h>

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE	(1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED	(1U << 31)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif

#endif /* !RP_COMPAT_H_ */
