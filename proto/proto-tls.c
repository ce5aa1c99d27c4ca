/* The --tls-* flags turned into nng TLS configurations, and the explanations of refused
 * handshakes that the worker logs and the CLI prints. */
#include "proto/proto-tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

#define PROTO_TLS_MAX_PEM (1024 * 1024)

void
proto_tls_from_options(const struct options *opts, struct proto_tls *tls)
{
	tls->cert = options_get(opts, "tls-cert");
	tls->key = options_get(opts, "tls-key");
	tls->ca = options_get(opts, "tls-ca");
	tls->server_name = options_get(opts, "tls-server-name");
}

bool
proto_tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+tcp", 7) == 0;
}

/* The host part of a tls+tcp://HOST:PORT URL (brackets of an IPv6 address removed). Caller
 * frees; NULL when there is none. */
static char *
proto_tls_url_host(const char *url)
{
	const char *h = strstr(url, "://"), *end;

	if (h == NULL)
		return NULL;
	h += 3;
	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = strrchr(h, ':');
		if (end == NULL)
			end = h + strlen(h);
	}
	if (end == NULL || end == h)
		return NULL;
	return xstrndup(h, (size_t)(end - h));
}

static bool
proto_tls_is_address(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int
proto_tls_check(const char *url, const struct proto_tls *tls, bool server, char **cause)
{
	char *host;

	bool any = tls != NULL && (tls->cert != NULL || tls->key != NULL || tls->ca != NULL ||
				   tls->server_name != NULL);

	if (!proto_tls_url(url)) {
		if (any)
			return error_set(cause, -EINVAL,
					 "--tls-* flags need a tls+tcp://HOST:PORT URL, not %s",
					 url);
		return 0;
	}
	if (server && (tls == NULL || tls->cert == NULL || tls->key == NULL))
		return error_set(cause, -EINVAL,
				 "%s: a TLS listener needs --tls-cert and --tls-key", url);
	if (tls != NULL && (tls->cert == NULL) != (tls->key == NULL))
		return error_set(cause, -EINVAL, "--tls-cert and --tls-key go together");
	if (server || (tls != NULL && tls->server_name != NULL))
		return 0;
	host = proto_tls_url_host(url);
	if (host == NULL || proto_tls_is_address(host)) {
		free(host);
		return error_set(cause, -EINVAL,
				 "%s: the scheduler's certificate cannot be verified against an IP "
				 "address; give the DNS name it carries with --tls-server-name "
				 "(e.g. --tls-server-name localhost)",
				 url);
	}
	free(host);
	return 0;
}

/* Read a PEM file into a NUL-terminated string (mbedTLS wants the terminator). */
static int
proto_tls_read_pem(const char *flag, const char *path, char **out, char **cause)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return error_set(cause, -errno, "%s %s: %s", flag, path, strerror(errno));
	buf = xmalloc(PROTO_TLS_MAX_PEM + 1);
	n = fread(buf, 1, PROTO_TLS_MAX_PEM, f);
	fclose(f);
	buf[n] = '\0';
	if (n == PROTO_TLS_MAX_PEM || strstr(buf, "-----BEGIN ") == NULL) {
		free(buf);
		return error_set(cause, -EINVAL, "%s %s: not a PEM file", flag, path);
	}
	*out = buf;
	return 0;
}

int
proto_tls_config_new(const char *url, const struct proto_tls *tls, bool server,
		     nng_tls_config **out, char **cause)
{
	static const struct proto_tls none;
	nng_tls_config *cfg;
	char *cert = NULL, *key = NULL, *ca = NULL, *host = NULL;
	const char *name;
	if (tls == NULL)
		tls = &none;
	name = tls->server_name;
	int rv, rc = 0;

	if ((rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) !=
	    0)
		return error_set(cause, -ENOTSUP, "TLS is not available in this nng: %s",
				 nng_strerror(rv));
	if (tls->cert != NULL &&
	    ((rc = proto_tls_read_pem("--tls-cert", tls->cert, &cert, cause)) != 0 ||
	     (rc = proto_tls_read_pem("--tls-key", tls->key, &key, cause)) != 0))
		goto out;
	if (tls->ca != NULL && (rc = proto_tls_read_pem("--tls-ca", tls->ca, &ca, cause)) != 0)
		goto out;
	if (cert != NULL && (rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		rc = error_set(cause, -EINVAL, "--tls-cert %s / --tls-key %s: %s", tls->cert,
			       tls->key, nng_strerror(rv));
		goto out;
	}
	if (ca != NULL && (rv = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0) {
		rc = error_set(cause, -EINVAL, "--tls-ca %s: %s", tls->ca, nng_strerror(rv));
		goto out;
	}
	if (!server && name == NULL)
		name = host = proto_tls_url_host(url);
	if (!server && (name == NULL || (rv = nng_tls_config_server_name(cfg, name)) != 0)) {
		rc = error_set(cause, -EINVAL, "%s: no server name to verify (--tls-server-name)",
			       url);
		goto out;
	}
	/* Clients always verify the scheduler; the scheduler verifies clients when given a CA. */
	rv = nng_tls_config_auth_mode(cfg, !server || ca != NULL ? NNG_TLS_AUTH_MODE_REQUIRED
								 : NNG_TLS_AUTH_MODE_NONE);
	if (rv != 0)
		rc = error_set(cause, -EINVAL, "TLS authentication mode: %s", nng_strerror(rv));
out:
	free(host);
	free(cert);
	free(key);
	free(ca);
	if (rc != 0)
		nng_tls_config_free(cfg);
	else
		*out = cfg;
	return rc;
}

bool
proto_tls_refused(int nng_rv)
{
	return nng_rv == NNG_EPEERAUTH || nng_rv == NNG_ECRYPTO;
}

char *
proto_tls_refusal(const char *url, const struct proto_tls *tls, int nng_rv)
{
	const char *hint;

	if (tls == NULL || tls->ca == NULL)
		hint = "no --tls-ca given: name the CA certificate that signed the scheduler's";
	else if (tls->server_name == NULL)
		hint = "check that --tls-ca signed the scheduler's certificate and that the "
		       "certificate carries the URL's host name (else name one it carries with "
		       "--tls-server-name)";
	else
		hint = "check that --tls-ca signed the scheduler's certificate and that "
		       "--tls-server-name is a DNS name in it";
	return xasprintf("TLS handshake with %s refused (%s): %s", url, nng_strerror(nng_rv), hint);
}
