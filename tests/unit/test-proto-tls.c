/* The --tls-* flags: which combinations a listener and a dialer accept (an IP address needs
 * --tls-server-name), PEM files that cannot be read or parsed are refused naming the flag, and
 * refused handshakes are explained with the flag to check. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto-tls.h"

static int
test_check(const char *url, struct proto_tls tls, bool server, const char *expect)
{
	char *cause = NULL;
	int rc = proto_tls_check(url, &tls, server, &cause);

	if (expect != NULL) {
		cr_assert_not_null(cause, "%s: no cause", url);
		cr_expect(strstr(cause, expect) != NULL, "%s: cause \"%s\" lacks \"%s\"", url,
			  cause, expect);
	} else {
		cr_expect_null(cause, "%s: unexpected cause %s", url, cause);
	}
	free(cause);
	return rc;
}

Test(proto_tls, plain_urls_take_no_tls_flags)
{
	cr_expect_eq(test_check("tcp://127.0.0.1:8786", (struct proto_tls){0}, false, NULL), 0);
	cr_expect_eq(test_check("ipc:///tmp/s", (struct proto_tls){0}, true, NULL), 0);
	cr_expect_eq(test_check("tcp://127.0.0.1:8786", (struct proto_tls){.ca = "ca.pem"}, false,
				"need a tls+tcp://"),
		     -EINVAL);
}

Test(proto_tls, listener_needs_certificate_and_key)
{
	cr_expect_eq(test_check("tls+tcp://0.0.0.0:8786", (struct proto_tls){0}, true,
				"needs --tls-cert and --tls-key"),
		     -EINVAL);
	cr_expect_eq(test_check("tls+tcp://0.0.0.0:8786", (struct proto_tls){.cert = "c.pem"}, true,
				"needs --tls-cert and --tls-key"),
		     -EINVAL);
	cr_expect_eq(test_check("tls+tcp://0.0.0.0:8786",
				(struct proto_tls){.cert = "c.pem", .key = "k.pem"}, true, NULL),
		     0);
	cr_expect_eq(test_check("tls+tcp://sched:8786",
				(struct proto_tls){.key = "k.pem", .ca = "ca.pem"}, false,
				"go together"),
		     -EINVAL);
}

Test(proto_tls, dialing_an_address_needs_a_server_name)
{
	struct proto_tls ca = {.ca = "ca.pem"},
			 named = {.ca = "ca.pem", .server_name = "localhost"};

	cr_expect_eq(test_check("tls+tcp://127.0.0.1:8786", ca, false, "--tls-server-name"),
		     -EINVAL);
	cr_expect_eq(test_check("tls+tcp://[::1]:8786", ca, false, "IP address"), -EINVAL);
	cr_expect_eq(test_check("tls+tcp://127.0.0.1:8786", named, false, NULL), 0);
	cr_expect_eq(test_check("tls+tcp://sched.example.org:8786", ca, false, NULL), 0);
	cr_expect_eq(test_check("tls+tcp://localhost:8786", ca, false, NULL), 0);
}

Test(proto_tls, unreadable_or_bad_pem_is_refused_naming_the_flag)
{
	char path[] = "/tmp/test-proto-tls-XXXXXX", *cause = NULL;
	nng_tls_config *cfg = NULL;
	struct proto_tls tls = {.ca = "/nonexistent/ca.pem", .server_name = "localhost"};
	int fd;

	cr_expect_eq(proto_tls_config_new("tls+tcp://localhost:1", &tls, false, &cfg, &cause),
		     -ENOENT);
	cr_expect(cause != NULL && strstr(cause, "--tls-ca /nonexistent/ca.pem") != NULL, "%s",
		  cause);
	free(cause);
	cause = NULL;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "not a certificate\n", 18), 18);
	close(fd);
	tls.ca = path;
	cr_expect_eq(proto_tls_config_new("tls+tcp://localhost:1", &tls, false, &cfg, &cause),
		     -EINVAL);
	cr_expect(cause != NULL && strstr(cause, "not a PEM file") != NULL, "%s", cause);
	free(cause);
	cause = NULL;

	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	{
		const char *pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
		cr_assert_eq(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	}
	close(fd);
	cr_expect_eq(proto_tls_config_new("tls+tcp://localhost:1", &tls, false, &cfg, &cause),
		     -EINVAL);
	cr_expect(cause != NULL && strncmp(cause, "--tls-ca ", 9) == 0, "%s", cause);
	free(cause);
	unlink(path);
	cr_expect_null(cfg, "no configuration on failure");
}

Test(proto_tls, client_configuration_without_files)
{
	nng_tls_config *cfg = NULL;
	char *cause = NULL;
	struct proto_tls tls = {0};

	/* No CA: the configuration is made (the handshake will then refuse the scheduler). */
	cr_assert_eq(proto_tls_config_new("tls+tcp://localhost:1", &tls, false, &cfg, &cause), 0,
		     "%s", cause);
	cr_expect_not_null(cfg);
	nng_tls_config_free(cfg);
}

Test(proto_tls, refusals_name_the_flag_to_check)
{
	struct proto_tls none = {0}, ca = {.ca = "ca.pem"},
			 named = {.ca = "ca.pem", .server_name = "x"};
	char *a = proto_tls_refusal("tls+tcp://h:1", &none, NNG_EPEERAUTH);
	char *b = proto_tls_refusal("tls+tcp://h:1", &ca, NNG_ECRYPTO);
	char *c = proto_tls_refusal("tls+tcp://h:1", &named, NNG_ECRYPTO);

	cr_expect(strstr(a, "TLS handshake with tls+tcp://h:1 refused") != NULL, "%s", a);
	cr_expect(strstr(a, "no --tls-ca given") != NULL, "%s", a);
	cr_expect(strstr(b, "carries the URL's host name") != NULL, "%s", b);
	cr_expect(strstr(c, "--tls-server-name is a DNS name") != NULL, "%s", c);
	cr_expect(proto_tls_refused(NNG_EPEERAUTH) && proto_tls_refused(NNG_ECRYPTO));
	cr_expect(!proto_tls_refused(NNG_ECONNREFUSED) && !proto_tls_refused(NNG_ETIMEDOUT));
	free(a);
	free(b);
	free(c);
}
