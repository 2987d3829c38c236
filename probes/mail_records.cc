#include "probes/mail_records.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <map>

#include "core/text.h"

namespace lookout {
namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t at = s.find(sep, start);
    const size_t end = at == std::string_view::npos ? s.size() : at;
    out.emplace_back(s.substr(start, end - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

// tag=value; pairs of DMARC and DKIM, tags lower case, in order.
std::vector<std::pair<std::string, std::string>> tags(std::string_view record) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& part : split(record, ';')) {
    const std::string t = trim(part, " \t");
    if (t.empty()) continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(ascii_lower(t), std::string());
    } else {
      out.emplace_back(ascii_lower(trim(t.substr(0, eq), " \t")), trim(t.substr(eq + 1), " \t"));
    }
  }
  return out;
}

std::vector<std::string> with_prefix(const std::vector<std::string>& records,
                                     std::string_view prefix) {
  std::vector<std::string> out;
  for (const auto& r : records) {
    const std::string head = ascii_lower(trim(r, " \t").substr(0, prefix.size() + 1));
    if (head.rfind(prefix, 0) == 0 && (head.size() == prefix.size() || head[prefix.size()] == ' ' ||
                                       head[prefix.size()] == ';')) {
      out.push_back(trim(r, " \t"));
    }
  }
  return out;
}

}  // namespace

SpfRecord check_spf(const std::string& domain, const std::vector<std::string>& records) {
  SpfRecord r;
  const auto spf = with_prefix(records, "v=spf1");
  if (spf.empty()) {
    r.problem = fmt::format("no SPF record at {} (a TXT record starting \"v=spf1\")", domain);
    return r;
  }
  if (spf.size() > 1) {
    r.problem = fmt::format("{} SPF records at {}; there must be exactly one", spf.size(), domain);
    return r;
  }
  bool ends_in_all = false, redirect = false;
  std::vector<std::string> terms;
  for (const auto& t : split(spf.front(), ' ')) {
    if (!t.empty()) terms.push_back(t);
  }
  for (size_t i = 1; i < terms.size(); ++i) {
    std::string t = ascii_lower(terms[i]);
    const auto eq = t.find('=');
    const auto colon = t.find_first_of(":/");
    if (eq != std::string::npos && (colon == std::string::npos || eq < colon)) {
      const std::string name = t.substr(0, eq);
      if (name == "redirect") {
        redirect = true;
        ++r.lookups;
        r.includes.push_back(t.substr(eq + 1));
      }
      continue;  // exp= and unknown modifiers are allowed
    }
    char qualifier = '+';
    if (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?') {
      qualifier = t[0];
      t.erase(0, 1);
    }
    const std::string mech = t.substr(0, std::min(t.size(), t.find_first_of(":/")));
    if (mech == "all") {
      if (qualifier == '+') {
        r.problem = fmt::format("the SPF record of {} ends in \"+all\": anyone may send mail as {}",
                                domain, domain);
        return r;
      }
      ends_in_all = i + 1 == terms.size() || std::all_of(terms.begin() + static_cast<long>(i) + 1,
                                                         terms.end(), [](const std::string& x) {
                                                           return x.find('=') != std::string::npos;
                                                         });
    } else if (mech == "include" || mech == "exists") {
      if (t.size() <= mech.size() + 1 || t[mech.size()] != ':') {
        r.problem = fmt::format("the SPF term \"{}\" of {} needs a domain", terms[i], domain);
        return r;
      }
      ++r.lookups;
      if (mech == "include") r.includes.push_back(t.substr(mech.size() + 1));
    } else if (mech == "a" || mech == "mx" || mech == "ptr") {
      ++r.lookups;
    } else if (mech == "ip4" || mech == "ip6") {
      if (t.size() <= mech.size() + 1) {
        r.problem = fmt::format("the SPF term \"{}\" of {} needs an address", terms[i], domain);
        return r;
      }
    } else {
      r.problem = fmt::format("the SPF record of {} has an unknown term \"{}\"", domain, terms[i]);
      return r;
    }
  }
  if (!ends_in_all && !redirect) {
    r.problem = fmt::format(
        "the SPF record of {} does not end in an \"all\" mechanism (such as \"-all\" or \"~all\")",
        domain);
  }
  return r;
}

std::string check_dmarc(const std::string& name, const std::vector<std::string>& records) {
  const auto dmarc = with_prefix(records, "v=dmarc1");
  if (dmarc.empty())
    return fmt::format("no DMARC record at {} (a TXT record starting \"v=DMARC1\")", name);
  if (dmarc.size() > 1)
    return fmt::format("{} DMARC records at {}; there must be exactly one", dmarc.size(), name);
  const auto t = tags(dmarc.front());
  if (t.empty() || t.front().first != "v" || t.front().second != "DMARC1") {
    return fmt::format("the DMARC record at {} must start with \"v=DMARC1\"", name);
  }
  std::map<std::string, std::string> m(t.begin(), t.end());
  static const std::vector<std::string> kPolicies{"none", "quarantine", "reject"};
  const auto p = m.find("p");
  if (p == m.end())
    return fmt::format("the DMARC record at {} has no policy (p=none, quarantine or reject)", name);
  for (const char* key : {"p", "sp"}) {
    const auto it = m.find(key);
    if (it != m.end() &&
        std::find(kPolicies.begin(), kPolicies.end(), ascii_lower(it->second)) == kPolicies.end()) {
      return fmt::format("the DMARC record at {} has {}={}, not none, quarantine or reject", name,
                         key, it->second);
    }
  }
  for (const char* key : {"rua", "ruf"}) {
    const auto it = m.find(key);
    if (it == m.end()) continue;
    for (const auto& uri : split(it->second, ',')) {
      const std::string u = trim(uri, " \t");
      const std::string addr = u.substr(0, u.find('!'));
      if (ascii_lower(addr).rfind("mailto:", 0) != 0 || addr.find('@') == std::string::npos ||
          addr.find('@') == 7 || addr.back() == '@') {
        return fmt::format("the DMARC record at {} has {} \"{}\", which is not a mailto:address",
                           name, key, u);
      }
    }
  }
  if (const auto it = m.find("pct"); it != m.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 3 || !std::all_of(v.begin(), v.end(), ::isdigit) ||
        std::stoi(v) > 100) {
      return fmt::format("the DMARC record at {} has pct={}, not a number from 0 to 100", name, v);
    }
  }
  return "";
}

std::string check_dkim(const std::string& name, const std::vector<std::string>& records) {
  std::vector<std::string> dkim;
  for (const auto& r : records) {
    const auto t = tags(r);
    if (std::any_of(t.begin(), t.end(), [](const auto& kv) { return kv.first == "p"; }))
      dkim.push_back(r);
  }
  if (dkim.empty()) return fmt::format("no DKIM key at {} (a TXT record with \"p=\")", name);
  if (dkim.size() > 1)
    return fmt::format("{} DKIM records at {}; there must be exactly one", dkim.size(), name);
  const auto t = tags(dkim.front());
  std::map<std::string, std::string> m(t.begin(), t.end());
  if (m.count("v") != 0 && (t.front().first != "v" || m["v"] != "DKIM1")) {
    return fmt::format("the DKIM record at {} must start with \"v=DKIM1\" when it has a version",
                       name);
  }
  std::string key = m["p"];
  key.erase(std::remove_if(key.begin(), key.end(), [](char c) { return c == ' ' || c == '\t'; }),
            key.end());
  if (key.empty()) return fmt::format("the DKIM key at {} is revoked (empty p=)", name);
  const std::string k = ascii_lower(m.count("k") != 0 ? m["k"] : "rsa");
  if (k != "rsa" && k != "ed25519")
    return fmt::format("the DKIM record at {} has k={}, not rsa or ed25519", name, k);
  if (key.size() % 4 != 0 || key.size() > 8192)
    return fmt::format("the DKIM key at {} is not valid base64", name);
  std::string der(key.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                reinterpret_cast<const unsigned char*>(key.data()),
                                static_cast<int>(key.size()));
  if (n < 0) return fmt::format("the DKIM key at {} is not valid base64", name);
  size_t len = static_cast<size_t>(n);
  if (!key.empty() && key.back() == '=') --len;
  if (key.size() >= 2 && key[key.size() - 2] == '=') --len;
  if (k == "ed25519") {
    if (len != 32) return fmt::format("the DKIM ed25519 key at {} is {} bytes, not 32", name, len);
    return "";
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(len));
  if (pkey == nullptr)
    return fmt::format("the DKIM p= at {} does not decode to a public key", name);
  const int bits = EVP_PKEY_get_bits(pkey);
  const int type = EVP_PKEY_get_base_id(pkey);
  EVP_PKEY_free(pkey);
  if (type != EVP_PKEY_RSA) return fmt::format("the DKIM key at {} is not an RSA key", name);
  if (bits < 1024)
    return fmt::format("the DKIM key at {} has {} bits; RSA keys need at least 1024", name, bits);
  return "";
}

}  // namespace lookout
