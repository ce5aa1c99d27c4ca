/* Scheduler addresses as users type them (proto-addr.c). */
#ifndef ND_PROTO_ADDR_H
#define ND_PROTO_ADDR_H

#define PROTO_ADDR_FORMS "tcp://HOST:PORT, HOST:PORT, tls+tcp://HOST:PORT or ipc:///PATH"

/* The nng URL for `addr`: tcp://HOST:PORT, tls+tcp://HOST:PORT and ipc:///PATH as they are,
 * HOST:PORT (or [V6]:PORT) as tcp://. 0 and *url allocated, or -EINVAL with *cause naming the
 * expected forms. */
int proto_addr_url(const char *addr, char **url, char **cause);

#endif
