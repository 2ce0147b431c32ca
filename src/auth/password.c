/* SPDX-License-Identifier: MIT */
/* password.c — argon2id hashes and random tokens (libsodium). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

/* One of OWASP's equivalent argon2id settings (m = 9 MiB, t = 4): ~30 ms
 * here, and concurrent logins do not balloon the server's memory the way
 * libsodium's 64 MiB INTERACTIVE preset would. */
#define OPSLIMIT 4
#define MEMLIMIT (9u * 1024 * 1024)

int auth_init(struct gerr *err)
{
	if (sodium_init() < 0)
		return gerr_set(err, GERR_INTERNAL, "auth: libsodium failed to initialize");
	return 0;
}

int auth_password_hash(const char *password, char out[AUTH_HASH_MAX], struct gerr *err)
{
	_Static_assert(crypto_pwhash_STRBYTES <= AUTH_HASH_MAX, "hash buffer too small");
	if (crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT, MEMLIMIT,
	                          crypto_pwhash_ALG_ARGON2ID13) != 0)
		return gerr_set(err, GERR_NOMEM, "auth: out of memory hashing a password");
	return 0;
}

bool auth_password_verify(const char *hash, const char *password)
{
	if (!hash || strncmp(hash, "$argon2id$", 10))
		return false;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void auth_token_hash(const char *token, size_t len, uint8_t hash[32])
{
	crypto_hash_sha256(hash, (const unsigned char *)token, len);
}

void auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(token, AUTH_TOKEN_LEN, hash);
}

void auth_token_handle(const uint8_t hash[32], char out[72])
{
	memcpy(out, "sha256:", 7);
	sodium_bin2hex(out + 7, 65, hash, 32);
}

bool auth_token_parse_handle(const char *s, uint8_t hash[32])
{
	size_t bin_len;
	if (strncmp(s, "sha256:", 7) || strlen(s) != 7 + 64)
		return false;
	return sodium_hex2bin(hash, 32, s + 7, 64, NULL, &bin_len, NULL) == 0 && bin_len == 32;
}
