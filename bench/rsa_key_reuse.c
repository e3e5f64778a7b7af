/* RSA-2048 sign rate with the key kept in memory vs. decoded from DER for every signature, as
 * the software key store's signer() does per issuance (docs/benchmarks.md). Each loop runs
 * 3 s of wall time, one thread.
 *   cc -O2 bench/rsa_key_reuse.c -o /tmp/rsa_key_reuse -lcrypto && /tmp/rsa_key_reuse */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int sign(EVP_PKEY* key) {
  unsigned char sig[512];
  size_t n = sizeof sig;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
           EVP_DigestSign(ctx, sig, &n, (const unsigned char*)"to-be-signed certificate", 24) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

int main(void) {
  const double seconds = 3.0;
  EVP_PKEY* key = EVP_RSA_gen(2048);
  unsigned char* der = NULL;
  int len = key ? i2d_PrivateKey(key, &der) : -1;
  if (len <= 0) return 1;
  double t0;
  long n;
  for (t0 = now(), n = 0; now() - t0 < seconds; n++)
    if (!sign(key)) return 1;
  printf("key kept in memory:         %6.0f signatures/s\n", (double)n / (now() - t0));
  for (t0 = now(), n = 0; now() - t0 < seconds; n++) {
    const unsigned char* p = der;
    EVP_PKEY_free(d2i_AutoPrivateKey(NULL, &p, len));
  }
  printf("d2i_AutoPrivateKey only:    %6.0f decodes/s\n", (double)n / (now() - t0));
  for (t0 = now(), n = 0; now() - t0 < seconds; n++) {
    const unsigned char* p = der;
    EVP_PKEY* fresh = d2i_AutoPrivateKey(NULL, &p, len);
    if (!fresh || !sign(fresh)) return 1;
    EVP_PKEY_free(fresh);
  }
  printf("decoded for each signature: %6.0f signatures/s\n", (double)n / (now() - t0));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return 0;
}
