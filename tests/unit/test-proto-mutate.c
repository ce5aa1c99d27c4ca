/* Deterministic mutation testing of the protocol decoder, for builds without libFuzzer: valid
 * messages are bit-flipped, spliced, truncated and given corrupt length fields by a seeded PRNG;
 * every result must decode to 0 or a known -errno, and what decodes must round-trip equal. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "proto-sample.h"
#include "proto/proto-codec.h"

/* Criterion ignores assertions in .fini; a leak aborts the test process instead. */
static void
leak_check(void)
{
	if (proto_sample_leaks() != 0)
		abort();
}

TestSuite(proto_mutate, .fini = leak_check);

#define MUTATE_ITERATIONS 200000
#define MUTATE_MAX_SEEDS  64

struct seed {
	uint8_t *data;
	size_t len;
};

static struct seed seeds[MUTATE_MAX_SEEDS];
static size_t nseeds;
static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	/* xorshift64*: small, fast and the same on every platform. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

static size_t
rng_below(size_t n)
{
	return n > 0 ? (size_t)(rng_next() % n) : 0;
}

static void
seeds_add(uint8_t *data, size_t len)
{
	cr_assert_lt(nseeds, MUTATE_MAX_SEEDS);
	seeds[nseeds].data = data;
	seeds[nseeds].len = len;
	nseeds++;
}

/* The fuzz corpus (tests/fuzz/corpus, passed by meson as ND_FUZZ_CORPUS), when present. */
static size_t
seeds_load_corpus(void)
{
	const char *dir = getenv("ND_FUZZ_CORPUS");
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char *path;
		FILE *f;
		uint8_t *buf = xmalloc(65536);
		size_t len;

		if (e->d_name[0] == '.') {
			free(buf);
			continue;
		}
		path = xasprintf("%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		cr_assert_not_null(f, "cannot open %s", path);
		len = fread(buf, 1, 65536, f);
		fclose(f);
		free(path);
		seeds_add(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

static void
seeds_init(void)
{
	rng_state = UINT64_C(0x9E3779B97F4A7C15);
	for (size_t i = 0; i < proto_sample_count(); i++) {
		size_t len;
		uint8_t *data = proto_sample_bytes(i, &len);

		seeds_add(data, len);
	}
}

static void
seeds_fini(void)
{
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i].data);
	nseeds = 0;
}

/* Bytes that change the meaning of a msgpack stream the most. */
static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
				      0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc6, 0xc9, 0xcc, 0xcf,
				      0xd0, 0xd3, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff};

/* Corrupt the length of a str/bin/array/map header found at or after `at`. */
static void
mutate_length(uint8_t *d, size_t len, size_t at)
{
	for (size_t i = at; i < len; i++) {
		uint8_t b = d[i];
		size_t width = 0;

		if ((b & 0xe0) == 0xa0 || (b & 0xe0) == 0x80) { /* fixstr, fixmap, fixarray */
			d[i] = (b & 0xe0) == 0xa0 ? (uint8_t)(0xa0 | rng_below(32))
						  : (uint8_t)((b & 0xf0) | rng_below(16));
			return;
		}
		if (b == 0xc4 || b == 0xd9)
			width = 1;
		else if (b == 0xc5 || b == 0xda || b == 0xdc || b == 0xde)
			width = 2;
		else if (b == 0xc6 || b == 0xdb || b == 0xdd || b == 0xdf)
			width = 4;
		if (width > 0 && i + width < len) {
			for (size_t k = 1; k <= width; k++)
				d[i + k] = rng_below(3) == 0 ? 0xff : (uint8_t)rng_next();
			return;
		}
	}
}

/* A mutated copy of a random seed, in a buffer of exactly *len bytes. */
static uint8_t *
mutate(size_t *len)
{
	const struct seed *s = &seeds[rng_below(nseeds)];
	size_t cap = s->len * 2 + 64, n = s->len;
	uint8_t *d = xmalloc(cap), *out;
	int rounds = 1 + (int)rng_below(4);

	memcpy(d, s->data, n);
	for (int r = 0; r < rounds; r++) {
		size_t at = rng_below(n);
		switch (rng_below(8)) {
		case 0: /* bit flip */
			if (n > 0)
				d[at] ^= (uint8_t)(1u << rng_below(8));
			break;
		case 1: /* interesting byte */
			if (n > 0)
				d[at] = interesting[rng_below(sizeof interesting)];
			break;
		case 2: /* insert a byte */
			if (n < cap) {
				memmove(d + at + 1, d + at, n - at);
				d[at] = rng_below(2) ? (uint8_t)rng_next()
						     : interesting[rng_below(sizeof interesting)];
				n++;
			}
			break;
		case 3: /* delete a run of bytes */
			if (n > 0) {
				size_t k = 1 + rng_below(n - at < 8 ? n - at : 8);
				memmove(d + at, d + at + k, n - at - k);
				n -= k;
			}
			break;
		case 4: /* corrupt a length field */
		case 5:
			mutate_length(d, n, at);
			break;
		case 6: /* truncate */
			n = at;
			break;
		case 7: { /* duplicate a chunk in place (splices maps and arrays) */
			size_t k = rng_below(n - at < 16 ? n - at : 16);
			if (n + k <= cap) {
				memmove(d + at + k, d + at, n - at);
				n += k;
			}
			break;
		}
		}
	}
	out = xmalloc(n);
	memcpy(out, d, n);
	free(d);
	*len = n;
	return out;
}

static bool
rc_known(int rc)
{
	return rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE || rc == -EPROTONOSUPPORT ||
	       rc == -ENOMSG;
}

Test(proto_mutate, corpus_seeds_are_valid)
{
	size_t n;

	n = seeds_load_corpus(); /* only the corpus */
	if (getenv("ND_FUZZ_CORPUS") != NULL)
		cr_assert_geq(n, 10, "corpus has %zu seeds", n);
	for (size_t i = 0; i < nseeds; i++) {
		bool same;
		int rc = proto_sample_roundtrip(seeds[i].data, seeds[i].len, &same);
		cr_assert_eq(rc, 0, "corpus seed %zu does not decode: %d", i, rc);
		cr_assert(same, "corpus seed %zu does not round-trip", i);
	}
	seeds_fini();
}

Test(proto_mutate, random_mutations, .timeout = 240)
{
	size_t outcomes[6] = {0}, ok_changed = 0;

	seeds_init();
	seeds_load_corpus();
	for (long it = 0; it < MUTATE_ITERATIONS; it++) {
		size_t len;
		uint8_t *d = mutate(&len);
		bool same = false;
		int rc = proto_sample_roundtrip(d, len, &same);

		cr_assert(rc_known(rc), "iteration %ld: decode returned %d", it, rc);
		if (rc == 0) {
			cr_assert(same, "iteration %ld: decoded message does not round-trip", it);
			for (size_t i = 0; i < nseeds; i++)
				if (seeds[i].len == len && memcmp(seeds[i].data, d, len) == 0)
					goto unchanged;
			ok_changed++;
		}
	unchanged:
		outcomes[rc == 0                  ? 0
			 : rc == -EBADMSG         ? 1
			 : rc == -EMSGSIZE        ? 2
			 : rc == -EPROTONOSUPPORT ? 3
						  : 4]++;
		free(d);
	}
	seeds_fini();
	/* The mutations reach past the envelope: some still decode, most are refused. */
	cr_assert_gt(ok_changed, 100, "only %zu mutated messages decoded", ok_changed);
	cr_assert_gt(outcomes[1], MUTATE_ITERATIONS / 2, "malformed: %zu", outcomes[1]);
	cr_assert_gt(outcomes[3] + outcomes[4], 0, "no version or type mutation seen");
	cr_log_info("mutations: %zu ok (%zu changed), %zu malformed, %zu too big, %zu version, "
		    "%zu type",
		    outcomes[0], ok_changed, outcomes[1], outcomes[2], outcomes[3], outcomes[4]);
}
