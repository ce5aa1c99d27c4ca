/* The structural pre-check of msgpack bytes, typed body-map readers and small writers.
 * msgpack-c's C unpacker has no limits API: a 5-byte array32 header makes it allocate
 * 2^32 objects, so proto_msgpack_check walks the encoding first and bounds every count. */
#include "proto/proto-msgpack.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "proto/proto.h"

static uint64_t
proto_msgpack_be(const uint8_t *p, int nbytes)
{
	uint64_t v = 0;
	for (int i = 0; i < nbytes; i++)
		v = (v << 8) | p[i];
	return v;
}

/* How an object is encoded, by its first byte: `hdr` header bytes (the marker, the big-endian
 * length or count field of `lenbytes` bytes, and for ext types the type byte), then for data
 * `n` bytes and for an array or a map `n` elements (pairs), where n is the length field or,
 * without one, `fixed`. */
enum { PROTO_MSGPACK_DATA, PROTO_MSGPACK_ARRAY, PROTO_MSGPACK_MAP, PROTO_MSGPACK_INVALID };

struct proto_msgpack_form {
	uint8_t hdr, lenbytes, fixed, kind;
};

/* 0xc0 .. 0xdf; the fix forms (ints, fixmap, fixarray, fixstr) come from the byte itself. */
static const struct proto_msgpack_form proto_msgpack_forms[32] = {
    {1, 0, 0, PROTO_MSGPACK_DATA},    /* 0xc0 nil */
    {1, 0, 0, PROTO_MSGPACK_INVALID}, /* 0xc1 never used */
    {1, 0, 0, PROTO_MSGPACK_DATA},    /* 0xc2 false */
    {1, 0, 0, PROTO_MSGPACK_DATA},    /* 0xc3 true */
    {2, 1, 0, PROTO_MSGPACK_DATA},    /* 0xc4 bin 8 */
    {3, 2, 0, PROTO_MSGPACK_DATA},    /* 0xc5 bin 16 */
    {5, 4, 0, PROTO_MSGPACK_DATA},    /* 0xc6 bin 32 */
    {3, 1, 0, PROTO_MSGPACK_DATA},    /* 0xc7 ext 8: length, type */
    {4, 2, 0, PROTO_MSGPACK_DATA},    /* 0xc8 ext 16 */
    {6, 4, 0, PROTO_MSGPACK_DATA},    /* 0xc9 ext 32 */
    {1, 0, 4, PROTO_MSGPACK_DATA},    /* 0xca float 32 */
    {1, 0, 8, PROTO_MSGPACK_DATA},    /* 0xcb float 64 */
    {1, 0, 1, PROTO_MSGPACK_DATA},    /* 0xcc uint 8 */
    {1, 0, 2, PROTO_MSGPACK_DATA},    /* 0xcd uint 16 */
    {1, 0, 4, PROTO_MSGPACK_DATA},    /* 0xce uint 32 */
    {1, 0, 8, PROTO_MSGPACK_DATA},    /* 0xcf uint 64 */
    {1, 0, 1, PROTO_MSGPACK_DATA},    /* 0xd0 int 8 */
    {1, 0, 2, PROTO_MSGPACK_DATA},    /* 0xd1 int 16 */
    {1, 0, 4, PROTO_MSGPACK_DATA},    /* 0xd2 int 32 */
    {1, 0, 8, PROTO_MSGPACK_DATA},    /* 0xd3 int 64 */
    {2, 0, 1, PROTO_MSGPACK_DATA},    /* 0xd4 fixext 1: type, 1 byte */
    {2, 0, 2, PROTO_MSGPACK_DATA},    /* 0xd5 fixext 2 */
    {2, 0, 4, PROTO_MSGPACK_DATA},    /* 0xd6 fixext 4 */
    {2, 0, 8, PROTO_MSGPACK_DATA},    /* 0xd7 fixext 8 */
    {2, 0, 16, PROTO_MSGPACK_DATA},   /* 0xd8 fixext 16 */
    {2, 1, 0, PROTO_MSGPACK_DATA},    /* 0xd9 str 8 */
    {3, 2, 0, PROTO_MSGPACK_DATA},    /* 0xda str 16 */
    {5, 4, 0, PROTO_MSGPACK_DATA},    /* 0xdb str 32 */
    {3, 2, 0, PROTO_MSGPACK_ARRAY},   /* 0xdc array 16 */
    {5, 4, 0, PROTO_MSGPACK_ARRAY},   /* 0xdd array 32 */
    {3, 2, 0, PROTO_MSGPACK_MAP},     /* 0xde map 16 */
    {5, 4, 0, PROTO_MSGPACK_MAP},     /* 0xdf map 32 */
};

static struct proto_msgpack_form
proto_msgpack_form_of(uint8_t b)
{
	if (b <= 0x7f || b >= 0xe0)
		return (struct proto_msgpack_form){1, 0, 0, PROTO_MSGPACK_DATA};
	if (b <= 0x8f)
		return (struct proto_msgpack_form){1, 0, b & 0x0f, PROTO_MSGPACK_MAP};
	if (b <= 0x9f)
		return (struct proto_msgpack_form){1, 0, b & 0x0f, PROTO_MSGPACK_ARRAY};
	if (b <= 0xbf)
		return (struct proto_msgpack_form){1, 0, b & 0x1f, PROTO_MSGPACK_DATA};
	return proto_msgpack_forms[b - 0xc0];
}

/* Skip one object at *off. `budget` counts objects still allowed: msgpack-c allocates for each
 * one, so a long run of one-byte objects must not turn a message into a far larger allocation. */
static int
proto_msgpack_skip(const uint8_t *d, size_t len, size_t *off, int depth, int max_depth,
		   uint64_t *budget, char **cause)
{
	size_t at = *off;
	struct proto_msgpack_form f;
	uint64_t n, items;

	if (at >= len)
		return error_set(cause, -EBADMSG, "msgpack: truncated at byte %zu", at);
	if (*budget == 0)
		return error_set(cause, -EMSGSIZE, "msgpack: more than %u objects",
				 PROTO_MAX_OBJECTS);
	(*budget)--;
	f = proto_msgpack_form_of(d[at]);
	if (f.kind == PROTO_MSGPACK_INVALID)
		return error_set(cause, -EBADMSG, "msgpack: invalid type byte 0x%02x at byte %zu",
				 d[at], at);
	if (f.hdr > len - at)
		return error_set(cause, -EBADMSG, "msgpack: truncated header at byte %zu", at);
	n = f.lenbytes > 0 ? proto_msgpack_be(d + at + 1, f.lenbytes) : f.fixed;
	at += f.hdr;
	if (f.kind == PROTO_MSGPACK_DATA) {
		if (n > len - at)
			return error_set(
			    cause, -EBADMSG,
			    "msgpack: declared length %llu at byte %zu exceeds the %zu "
			    "bytes left",
			    (unsigned long long)n, *off, len - at);
		*off = at + n;
		return 0;
	}
	/* Every array and map counts as a level, empty or not. */
	items = f.kind == PROTO_MSGPACK_MAP ? n * 2 : n;
	if (depth >= max_depth)
		return error_set(cause, -EBADMSG, "msgpack: nesting deeper than %d at byte %zu",
				 max_depth, *off);
	if (items > len - at)
		return error_set(
		    cause, -EBADMSG,
		    "msgpack: declared %llu elements at byte %zu exceed the %zu bytes left",
		    (unsigned long long)items, *off, len - at);
	if (items > *budget)
		return error_set(
		    cause, -EMSGSIZE,
		    "msgpack: declared %llu elements at byte %zu; more than %u objects",
		    (unsigned long long)items, *off, PROTO_MAX_OBJECTS);
	for (uint64_t i = 0; i < items; i++) {
		int rc = proto_msgpack_skip(d, len, &at, depth + 1, max_depth, budget, cause);
		if (rc != 0)
			return rc;
	}
	*off = at;
	return 0;
}

int
proto_msgpack_check(const uint8_t *data, size_t len, int max_depth, char **cause)
{
	uint64_t budget = PROTO_MAX_OBJECTS;
	size_t off = 0;
	int rc;

	if (len > PROTO_MAX_MESSAGE)
		return error_set(cause, -EMSGSIZE, "message of %zu bytes exceeds the limit of %u",
				 len, PROTO_MAX_MESSAGE);
	if (len == 0)
		return error_set(cause, -EBADMSG, "empty message");
	rc = proto_msgpack_skip(data, len, &off, 0, max_depth, &budget, cause);
	if (rc != 0)
		return rc;
	if (off != len)
		return error_set(cause, -EBADMSG, "%zu trailing bytes after the message",
				 len - off);
	return 0;
}

void
proto_map_init(struct proto_map *m, const msgpack_object *obj, const char *what, char **cause)
{
	memset(m, 0, sizeof *m);
	m->what = what;
	m->cause = cause;
	if (obj == NULL || obj->type != MSGPACK_OBJECT_MAP) {
		m->rc = error_set(cause, -EBADMSG, "%s: body is not a map", what);
		return;
	}
	if (obj->via.map.size > PROTO_MAX_MAP_KEYS) {
		m->rc = error_set(cause, -EBADMSG, "%s: %u fields, at most %d allowed", what,
				  obj->via.map.size, PROTO_MAX_MAP_KEYS);
		return;
	}
	m->kv = obj->via.map.ptr;
	m->n = obj->via.map.size;
}

/* Find `key`; NULL when absent. Duplicate keys and non-string keys are errors. */
static const msgpack_object *
proto_map_find(struct proto_map *m, const char *key, bool required)
{
	size_t klen = strlen(key);
	const msgpack_object *found = NULL;

	if (m->rc != 0)
		return NULL;
	for (uint32_t i = 0; i < m->n; i++) {
		const msgpack_object *k = &m->kv[i].key;
		if (k->type != MSGPACK_OBJECT_STR) {
			m->rc = error_set(m->cause, -EBADMSG, "%s: a field name is not a string",
					  m->what);
			return NULL;
		}
		if (k->via.str.size != klen || memcmp(k->via.str.ptr, key, klen) != 0)
			continue;
		if (found != NULL) {
			m->rc = error_set(m->cause, -EBADMSG, "%s: field '%s' appears twice",
					  m->what, key);
			return NULL;
		}
		found = &m->kv[i].val;
		m->used |= 1u << i;
	}
	if (found == NULL && required)
		m->rc = error_set(m->cause, -EBADMSG, "%s: missing field '%s'", m->what, key);
	return found;
}

static int
proto_map_type_error(struct proto_map *m, const char *key, const char *expected)
{
	m->rc = error_set(m->cause, -EBADMSG, "%s: field '%s' must be %s", m->what, key, expected);
	return m->rc;
}

/* Find `key` and check its type (`expected` names it); NULL when absent or of another type. */
static const msgpack_object *
proto_map_typed(struct proto_map *m, const char *key, bool required, msgpack_object_type type,
		const char *expected)
{
	const msgpack_object *v = proto_map_find(m, key, required);

	if (v != NULL && v->type != type) {
		proto_map_type_error(m, key, expected);
		return NULL;
	}
	return v;
}

/* A string or an array over its limit: n `units` where `limit` are allowed. */
static int
proto_map_size_error(struct proto_map *m, const char *key, uint32_t n, const char *units,
		     size_t limit)
{
	m->rc = error_set(m->cause, -EMSGSIZE, "%s: field '%s' has %u %s, limit %zu", m->what, key,
			  n, units, limit);
	return m->rc;
}

int
proto_map_u64(struct proto_map *m, const char *key, bool required, uint64_t min, uint64_t max,
	      uint64_t *out)
{
	const msgpack_object *v =
	    proto_map_typed(m, key, required, MSGPACK_OBJECT_POSITIVE_INTEGER, "an unsigned integer");

	if (v == NULL)
		return m->rc;
	if (v->via.u64 < min || v->via.u64 > max) {
		m->rc =
		    error_set(m->cause, -EBADMSG, "%s: field '%s' = %llu is out of [%llu, %llu]",
			      m->what, key, (unsigned long long)v->via.u64, (unsigned long long)min,
			      (unsigned long long)max);
		return m->rc;
	}
	*out = v->via.u64;
	return 0;
}

int
proto_map_bool(struct proto_map *m, const char *key, bool required, bool *out)
{
	const msgpack_object *v = proto_map_typed(m, key, required, MSGPACK_OBJECT_BOOLEAN, "a boolean");

	if (v == NULL)
		return m->rc;
	*out = v->via.boolean;
	return 0;
}

int
proto_map_str(struct proto_map *m, const char *key, bool required, size_t maxlen, char **out)
{
	const msgpack_object *v = proto_map_typed(m, key, required, MSGPACK_OBJECT_STR, "a string");

	if (v == NULL)
		return m->rc;
	if (v->via.str.size > maxlen)
		return proto_map_size_error(m, key, v->via.str.size, "bytes", maxlen);
	if (memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL)
		return proto_map_type_error(m, key, "a string without NUL bytes");
	*out = xstrndup(v->via.str.ptr, v->via.str.size);
	return 0;
}

int
proto_map_array(struct proto_map *m, const char *key, bool required, uint32_t maxn,
		const msgpack_object_array **out)
{
	const msgpack_object *v = proto_map_typed(m, key, required, MSGPACK_OBJECT_ARRAY, "an array");

	if (v == NULL)
		return m->rc;
	if (v->via.array.size > maxn)
		return proto_map_size_error(m, key, v->via.array.size, "elements", maxn);
	*out = &v->via.array;
	return 0;
}

int
proto_map_u64_array(struct proto_map *m, const char *key, bool required, uint32_t maxn,
		    uint64_t **out, uint32_t *n)
{
	const msgpack_object_array *a = NULL;
	uint64_t *v;

	if (proto_map_array(m, key, required, maxn, &a) != 0 || a == NULL)
		return m->rc;
	for (uint32_t i = 0; i < a->size; i++)
		if (a->ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return proto_map_type_error(m, key, "an array of unsigned integers");
	v = a->size > 0 ? xcalloc(a->size, sizeof *v) : NULL;
	for (uint32_t i = 0; i < a->size; i++)
		v[i] = a->ptr[i].via.u64;
	*out = v;
	*n = a->size;
	return 0;
}

int
proto_map_finish(struct proto_map *m)
{
	if (m->rc != 0)
		return m->rc;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->used & (1u << i))
			continue;
		const msgpack_object *k = &m->kv[i].key;
		if (k->type == MSGPACK_OBJECT_STR)
			m->rc = error_set(m->cause, -EBADMSG, "%s: unknown field '%.*s'", m->what,
					  (int)(k->via.str.size > 64 ? 64 : k->via.str.size),
					  k->via.str.ptr);
		else
			m->rc = error_set(m->cause, -EBADMSG, "%s: a field name is not a string",
					  m->what);
		return m->rc;
	}
	return 0;
}

void
proto_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
proto_pack_kstr(msgpack_packer *pk, const char *key, const char *value)
{
	proto_pack_str(pk, key);
	proto_pack_str(pk, value);
}

void
proto_pack_ku64(msgpack_packer *pk, const char *key, uint64_t value)
{
	proto_pack_str(pk, key);
	msgpack_pack_uint64(pk, value);
}

void
proto_pack_kbool(msgpack_packer *pk, const char *key, bool value)
{
	proto_pack_str(pk, key);
	if (value)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
proto_pack_ku64_array(msgpack_packer *pk, const char *key, const uint64_t *v, uint32_t n)
{
	proto_pack_str(pk, key);
	msgpack_pack_array(pk, n);
	for (uint32_t i = 0; i < n; i++)
		msgpack_pack_uint64(pk, v[i]);
}
