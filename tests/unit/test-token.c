/* The token's proofs against HMAC-SHA256 computed independently (Python's hmac module), a nonce's
 * shape, and the constant-time comparison. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/token.h"

Test(token, proof_matches_an_independent_hmac_sha256)
{
	char out[TOKEN_HEX_LEN + 1];

	/* hmac.new(key, b"neurodag-scheduler\nclient\nnonce-a\nnonce-b", hashlib.sha256) */
	token_proof("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		    TOKEN_PROOF_SCHEDULER, "client", "nonce-a", "nonce-b", out);
	cr_assert_str_eq(out, "5a7fc37eaf85dcd27276462e34b7b21195a728df39d863efc7dd5a0e69ad3c0a");
}

Test(token, proof_with_a_key_longer_than_the_hash_block)
{
	char key[101], out[TOKEN_HEX_LEN + 1];

	memset(key, 'k', 100);
	key[100] = '\0';
	/* hmac.new(b"k" * 100, b"neurodag-peer\nworker\n\n", hashlib.sha256) */
	token_proof(key, TOKEN_PROOF_PEER, "worker", "", "", out);
	cr_assert_str_eq(out, "93707f6b49af391dbbef908f155c927f22456a3c5eedae5d4169a16fd830ce44");
}

Test(token, proofs_differ_by_label_and_order)
{
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1], c[TOKEN_HEX_LEN + 1];

	token_proof("secret", TOKEN_PROOF_SCHEDULER, "worker", "x", "y", a);
	token_proof("secret", TOKEN_PROOF_PEER, "worker", "x", "y", b);
	token_proof("secret", TOKEN_PROOF_SCHEDULER, "worker", "y", "x", c);
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
}

Test(token, nonces_are_fresh_hex)
{
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1];

	cr_assert_eq(token_nonce(a), 0);
	cr_assert_eq(token_nonce(b), 0);
	cr_assert_eq(strlen(a), TOKEN_HEX_LEN);
	cr_assert_eq(strspn(a, "0123456789abcdef"), TOKEN_HEX_LEN);
	cr_assert_str_neq(a, b);
}

Test(token, equal_compares_whole_strings)
{
	cr_assert(token_equal("abc", "abc"));
	cr_assert_not(token_equal("abc", "abd"));
	cr_assert_not(token_equal("abc", "ab"));
	cr_assert_not(token_equal("abc", "abcd"));
	cr_assert_not(token_equal("abc", NULL));
}
