/* msgpack helpers for the codecs: a structural pre-check of raw bytes (msgpack-c allocates from
 * declared element counts, so counts are bounded against the bytes that remain before unpacking),
 * typed readers over a body map that insist every field is consumed exactly once, and writers. */
#ifndef ND_PROTO_MSGPACK_H
#define ND_PROTO_MSGPACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Check that [data, data+len) holds exactly one msgpack object, that every declared length fits
 * in the bytes that remain, that nesting is at most max_depth and that there are at most
 * PROTO_MAX_OBJECTS objects. Returns 0, -EMSGSIZE (over PROTO_MAX_MESSAGE or PROTO_MAX_OBJECTS)
 * or -EBADMSG with *cause saying what is wrong and at which byte offset. */
int proto_msgpack_check(const uint8_t *data, size_t len, int max_depth, char **cause);

/* A reader over one body map. Errors are sticky: after the first, every call returns it. */
struct proto_map {
	const msgpack_object_kv *kv;
	uint32_t n;
	uint32_t used; /* bit i: entry i was consumed */
	const char *what;
	char **cause;
	int rc;
};

void proto_map_init(struct proto_map *m, const msgpack_object *obj, const char *what, char **cause);
int proto_map_u64(struct proto_map *m, const char *key, bool required, uint64_t min, uint64_t max,
		  uint64_t *out);
int proto_map_bool(struct proto_map *m, const char *key, bool required, bool *out);
/* A NUL-terminated heap copy; strings with an embedded NUL or over maxlen are rejected. */
int proto_map_str(struct proto_map *m, const char *key, bool required, size_t maxlen, char **out);
int proto_map_array(struct proto_map *m, const char *key, bool required, uint32_t maxn,
		    const msgpack_object_array **out);
/* An array of unsigned integers, as a heap array (NULL when empty). */
int proto_map_u64_array(struct proto_map *m, const char *key, bool required, uint32_t maxn,
			uint64_t **out, uint32_t *n);
/* Every entry consumed: unknown keys are errors. Returns the sticky status. */
int proto_map_finish(struct proto_map *m);

/* Writers: a key followed by a value. */
void proto_pack_str(msgpack_packer *pk, const char *s);
void proto_pack_kstr(msgpack_packer *pk, const char *key, const char *value);
void proto_pack_ku64(msgpack_packer *pk, const char *key, uint64_t value);
void proto_pack_kbool(msgpack_packer *pk, const char *key, bool value);
void proto_pack_ku64_array(msgpack_packer *pk, const char *key, const uint64_t *v, uint32_t n);

#endif
