/* libFuzzer target for the protocol decoder: any input must decode to 0 or a negative errno
 * without crashing or leaking, and a message that decodes must survive encode -> decode equal. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto-sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool same = false;
	int rc = proto_sample_roundtrip(data, size, &same);

	if (rc > 0 || rc < -4095) {
		fprintf(stderr, "proto_decode returned %d\n", rc);
		abort();
	}
	if (rc == 0 && !same) {
		fprintf(stderr, "decode -> encode -> decode changed the message\n");
		abort();
	}
	return 0;
}
