#include "core/secret.h"

#include <algorithm>

namespace lookout {

void Redactor::add(std::string_view fragment) {
  if (fragment.size() < kMinLength) return;
  if (std::find(fragments_.begin(), fragments_.end(), fragment) != fragments_.end()) return;
  fragments_.emplace_back(fragment);
  std::stable_sort(fragments_.begin(), fragments_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::apply(std::string text) const {
  for (const auto& f : fragments_) {
    size_t pos = 0;
    while ((pos = text.find(f, pos)) != std::string::npos) {
      text.replace(pos, f.size(), "***");
      pos += 3;
    }
  }
  return text;
}

}  // namespace lookout
