#include "probes/cert_observe.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace lookout {
namespace {

std::string one_line_name(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(std::max(0L, len)));
  BIO_free(bio);
  return out;
}

WallTime asn1_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return WallTime{};
  return WallTime{std::chrono::seconds{timegm(&tm)}};
}

CertInfo info_of(X509* cert) {
  return CertInfo{one_line_name(X509_get_subject_name(cert)),
                  one_line_name(X509_get_issuer_name(cert)), asn1_time(X509_get0_notBefore(cert)),
                  asn1_time(X509_get0_notAfter(cert))};
}

std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> out;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type == GEN_DNS) {
      const auto* s = n->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const auto* s = n->d.iPAddress;
      char buf[64] = {};
      const int len = ASN1_STRING_length(s);
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf)) {
        out.emplace_back(buf);
      }
    }
  }
  GENERAL_NAMES_free(sans);
  if (out.empty()) out.push_back(one_line_name(X509_get_subject_name(cert)));
  return out;
}

}  // namespace

bool observe_verification(int ok, X509_STORE_CTX* store, const std::string& host,
                          CertObservation& obs) {
  const int depth = X509_STORE_CTX_get_error_depth(store);
  const int error = X509_STORE_CTX_get_error(store);
  const bool name_error =
      error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH;
  if (ok == 0 && !name_error && obs.verify_error == X509_V_OK) {
    obs.verify_error = error;
    obs.error_depth = depth;
    obs.verify_error_text = X509_verify_cert_error_string(error);
  }
  if (depth != 0) return false;
  // At depth 0 the chain is as complete as it will get.
  obs.chain.clear();
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(store);
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i)
    obs.chain.push_back(info_of(sk_X509_value(chain, i)));
  X509* leaf = X509_STORE_CTX_get_current_cert(store);
  if (leaf != nullptr) {
    if (obs.chain.empty()) obs.chain.push_back(info_of(leaf));
    unsigned char ip[16];
    const bool is_ip =
        inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1;
    obs.name_ok = is_ip ? X509_check_ip_asc(leaf, host.c_str(), 0) == 1
                        : X509_check_host(leaf, host.c_str(), host.size(),
                                          X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    obs.names = names_of(leaf);
  }
  return true;
}

nlohmann::json chain_json(const std::vector<CertInfo>& chain) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : chain) {
    out.push_back({{"subject", c.subject},
                   {"issuer", c.issuer},
                   {"not_before", rfc3339(c.not_before)},
                   {"not_after", rfc3339(c.not_after)}});
  }
  return out;
}

}  // namespace lookout
