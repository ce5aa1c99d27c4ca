/* Token files and comparison: the scheduler makes one on first start; peers read it. */
#include "common/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"

static int
token_read_file(const char *path, char **token, char **cause)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return error_set(cause, -errno, "cannot read the token file %s: %s", path,
				 strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		return error_set(cause, -EINVAL, "the token file %s is empty", path);
	*token = xstrdup(buf);
	return 0;
}

int
token_load_or_create(const char *dir, char **token, char **cause)
{
	char *path = xasprintf("%s/%s", dir, TOKEN_FILE_NAME);
	unsigned char raw[32];
	char hex[65];
	int fd, rc;

	if (access(path, F_OK) == 0) {
		rc = token_read_file(path, token, cause);
		free(path);
		return rc;
	}
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		free(path);
		return error_set(cause, -EIO, "cannot get random bytes for a token");
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1) {
		rc = error_set(cause, -errno, "cannot write the token file %s: %s", path,
			       strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return rc;
	}
	fsync(fd);
	close(fd);
	free(path);
	*token = xstrdup(hex);
	return 0;
}

int
token_read(const char *path, char **token, char **cause)
{
	const char *env = getenv("NEURODAG_TOKEN");

	if (path != NULL && *path != '\0')
		return token_read_file(path, token, cause);
	if (env != NULL && *env != '\0') {
		*token = xstrdup(env);
		return 0;
	}
	return error_set(
	    cause, -ENOENT,
	    "no token: give --token-file (the scheduler writes STATE_DIR/token) or set "
	    "NEURODAG_TOKEN");
}

bool
token_equal(const char *expected, const char *given)
{
	size_t n = strlen(expected), m = given != NULL ? strlen(given) : 0;
	unsigned char diff = (unsigned char)(n != m);

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(expected[i] ^ (i < m ? given[i] : 0));
	return diff == 0;
}

static void
token_hex(const unsigned char *raw, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[2 * n] = '\0';
}

int
token_nonce(char out[TOKEN_HEX_LEN + 1])
{
	unsigned char raw[TOKEN_HEX_LEN / 2];

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -EIO;
	token_hex(raw, sizeof raw, out);
	return 0;
}

void
token_proof(const char *token, const char *label, const char *role, const char *first,
	    const char *second, char out[TOKEN_HEX_LEN + 1])
{
	char *msg = xasprintf("%s\n%s\n%s\n%s", label, role, first, second);
	const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	unsigned char mac[TOKEN_HEX_LEN / 2];

	/* mbedtls, not OpenSSL: nng links it anyway, and OpenSSL's first use (its configuration
	 * file, its providers) costs a client about a millisecond. */
	if (sha256 == NULL || mbedtls_md_get_size(sha256) != sizeof mac ||
	    mbedtls_md_hmac(sha256, (const unsigned char *)token, strlen(token),
			    (const unsigned char *)msg, strlen(msg), mac) != 0)
		fatal("HMAC-SHA256 failed");
	token_hex(mac, sizeof mac, out);
	free(msg);
}
