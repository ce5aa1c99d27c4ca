/* Network pieces the C tests and benchmarks share: a loopback port nobody listens on. */
#ifndef ND_TEST_NET_H
#define ND_TEST_NET_H

/* A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and closed; a process may
 * take it before the caller does), or -1 when no socket could be bound. */
int test_net_free_port(void);

#endif
