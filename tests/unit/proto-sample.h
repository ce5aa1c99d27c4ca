/* Sample protocol messages shared by the codec tests, the mutation test and the fuzz target:
 * one or more valid messages per type, field-by-field equality, and encoding to a flat buffer. */
#ifndef ND_TEST_PROTO_SAMPLE_H
#define ND_TEST_PROTO_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto-codec.h"

/* Number of samples: every message type, with optional fields absent and present. */
size_t proto_sample_count(void);
/* Fill *msg with sample i, in the form proto_decode produces (heap fields; free with
 * proto_msg_fini). */
void proto_sample_build(size_t i, struct proto_msg *msg);
/* Every field equal (strings by content, NULL only equals NULL). */
bool proto_sample_equal(const struct proto_msg *a, const struct proto_msg *b);
/* Encode msg into a heap buffer the caller frees; aborts if the type is unknown. */
uint8_t *proto_sample_encode(const struct proto_msg *msg, size_t *len);
/* Sample i encoded into a heap buffer the caller frees. */
uint8_t *proto_sample_bytes(size_t i, size_t *len);
/* Decode data, re-encode the result and decode again. Returns the first decode's status; on 0,
 * *same says whether both decodes were equal. Frees everything it allocates. */
int proto_sample_roundtrip(const uint8_t *data, size_t len, bool *same);

/* Under AddressSanitizer, run LeakSanitizer now and return the number of leak reports (as a
 * test suite's .fini, so a leak fails the test instead of only printing at exit); else 0. */
int proto_sample_leaks(void);

#endif
