// What a browser receives, searched for credentials: the scripts of a page (where they are) and
// the secrets in a text (what, where, masked). Pure: text in, findings out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lookout::audit {

struct SecretFinding {
  std::string kind;    // "AWS access key", "JWT", "value assigned to api_key", ...
  int line = 0;        // 1-based, in the text scanned
  std::string masked;  // at most the first four characters, then "…"
};

// Every credential-looking value in `text`, in order of appearance.
std::vector<SecretFinding> scan_for_secrets(std::string_view text);

// At most the first four characters of a secret (fewer for short ones), then an ellipsis.
std::string mask_secret(std::string_view value);

// Bits per character of the value's character distribution.
double shannon_entropy(std::string_view value);

struct PageScripts {
  std::vector<std::string> sources;  // src attributes, as written
  std::string inline_code;           // the bodies of inline scripts, newline-joined
};
PageScripts find_scripts(std::string_view html);

}  // namespace lookout::audit
