/* libFuzzer target: a handshake client fed fuzzer-chosen server bytes.
 * See hs_fuzz_common.h for the input layout and the invariants. */
#include <stddef.h>
#include <stdint.h>

#include "hs_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{

	return (hsf_run(PROTO_CLIENT, data, size));
}
