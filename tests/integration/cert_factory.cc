#include "tests/integration/cert_factory.h"

#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace lookout::testing {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) throw std::runtime_error("bad certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

TestCert CertFactory::make(const Spec& spec, const TestCert* issuer) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++ + std::time(nullptr) % 100000 * 1000);
  time_t now = std::time(nullptr);
  X509_time_adj_ex(X509_getm_notBefore(cert), 0, static_cast<long>(spec.from_s), &now);
  X509_time_adj_ex(X509_getm_notAfter(cert), 0, static_cast<long>(spec.until_s), &now);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.name.c_str()), -1, -1, 0);
  X509_set_pubkey(cert, key);

  EVP_PKEY* sign_key = key;
  X509* issuer_cert = cert;
  if (issuer != nullptr) {
    FILE* f = std::fopen(issuer->key.c_str(), "r");
    sign_key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    BIO* bio = BIO_new_mem_buf(issuer->pem.data(), static_cast<int>(issuer->pem.size()));
    issuer_cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  add_ext(cert, issuer_cert, NID_basic_constraints,
          spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (spec.ca) add_ext(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_ext(cert, issuer_cert, NID_authority_key_identifier, "keyid");
  if (!spec.sans.empty()) {
    std::string sans;
    for (const auto& s : spec.sans) sans += (sans.empty() ? "" : ",") + s;
    add_ext(cert, issuer_cert, NID_subject_alt_name, sans);
  }
  if (X509_sign(cert, sign_key, EVP_sha256()) == 0)
    throw std::runtime_error("cannot sign test certificate");

  TestCert out;
  out.key = dir_.file(spec.name + ".key");
  out.cert = dir_.file(spec.name + ".pem");
  FILE* kf = std::fopen(out.key.c_str(), "w");
  PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(kf);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  out.pem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  // The chain file: this certificate and, below it, the issuer's chain (never the root).
  std::string chain = out.pem;
  if (issuer != nullptr && issuer_cert != cert) {
    const std::string issuer_chain = read_all(issuer->cert);
    if (X509_check_issued(issuer_cert, issuer_cert) != X509_V_OK) chain += issuer_chain;
  }
  std::ofstream(out.cert) << chain;
  out.not_after = static_cast<int64_t>(now) + spec.until_s;

  if (issuer != nullptr) {
    X509_free(issuer_cert);
    EVP_PKEY_free(sign_key);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace lookout::testing
