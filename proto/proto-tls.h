/* TLS for the nng transports: the --tls-* flags every process takes, their checks, and the nng
 * TLS configuration built from them for a listener (scheduler) or a dialer (worker, CLI). nng
 * uses mbedTLS, which verifies the server's certificate against a DNS name, never an IP address:
 * a client dialing tls+tcp://10.0.0.5:8786 names the certificate's host with --tls-server-name. */
#ifndef ND_PROTO_TLS_H
#define ND_PROTO_TLS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdbool.h>

#include "common/options.h"

/* Paths of PEM files and the name to verify; NULL when not given. No ownership: the strings
 * belong to whoever filled the struct (usually the parsed options). */
struct proto_tls {
	const char *cert;        /* own certificate (chain); required by a listener */
	const char *key;         /* its private key */
	const char *ca;          /* CA certificates that sign the peer's certificate */
	const char *server_name; /* dialer: the name the server's certificate must carry */
};

#define PROTO_TLS_OPTIONS                                                                            \
	{"tls-cert",                                                                                 \
	 0,                                                                                          \
	 OPTIONS_VALUE,                                                                              \
	 "FILE",                                                                                     \
	 "tls+tcp://: this side's certificate (PEM; required by the scheduler)",                     \
	 NULL},                                                                                      \
	    {"tls-key", 0, OPTIONS_VALUE, "FILE", "tls+tcp://: the certificate's private key (PEM)", \
	     NULL},                                                                                  \
	    {"tls-ca",                                                                               \
	     0,                                                                                      \
	     OPTIONS_VALUE,                                                                          \
	     "FILE",                                                                                 \
	     "tls+tcp://: CA certificate(s) (PEM) that sign the peer's certificate; the "            \
	     "scheduler "                                                                            \
	     "then requires client certificates",                                                    \
	     NULL},                                                                                  \
	{                                                                                            \
		"tls-server-name", 0, OPTIONS_VALUE, "NAME",                                         \
		    "tls+tcp://: the DNS name in the scheduler's certificate (default: the URL's "   \
		    "host; "                                                                         \
		    "needed when dialing an IP address)",                                            \
		    NULL                                                                             \
	}

/* Fill tls from parsed options holding PROTO_TLS_OPTIONS. No ownership is transferred. */
void proto_tls_from_options(const struct options *opts, struct proto_tls *tls);
bool proto_tls_url(const char *url);
/* Check that the flags fit the URL: TLS flags need a tls+tcp:// URL, a listener needs a
 * certificate and key, a key needs a certificate, a dialer to an IP address needs
 * --tls-server-name (else the URL's host is the name verified). 0 or -EINVAL with a cause. */
int proto_tls_check(const char *url, const struct proto_tls *tls, bool server, char **cause);
/* Build an nng TLS configuration (reads the PEM files). On success *out is owned by the caller
 * (nng_tls_config_free). */
int proto_tls_config_new(const char *url, const struct proto_tls *tls, bool server,
			 nng_tls_config **out, char **cause);
/* True when an nng error from a dial means the TLS handshake failed (not the network). */
bool proto_tls_refused(int nng_rv);
/* The explanation of a refused handshake, naming the flags to check. Caller frees. */
char *proto_tls_refusal(const char *url, const struct proto_tls *tls, int nng_rv);

#endif
