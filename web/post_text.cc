#include "web/post_text.h"

#include <fmt/format.h>

#include "core/text.h"

namespace lookout {
namespace {

bool post_is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string post_body_html(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t i = 0;
  while (i < text.size()) {
    const std::string_view rest = text.substr(i);
    const bool link = rest.substr(0, 7) == "http://" || rest.substr(0, 8) == "https://";
    size_t end = i;
    if (link) {
      while (end < text.size() && !post_is_space(text[end])) ++end;
    }
    // A scheme alone ("https://") is text, not a link to nowhere.
    if (link && end - i > (rest[4] == 's' ? 8U : 7U)) {
      const std::string url = html_escape(text.substr(i, end - i));
      out += fmt::format("<a href=\"{0}\" rel=\"nofollow noopener noreferrer\">{0}</a>", url);
      i = end;
      continue;
    }
    size_t next = text.find("http", i + 1);
    if (next == std::string_view::npos) next = text.size();
    out += html_escape(text.substr(i, next - i));
    i = next;
  }
  return out;
}

}  // namespace lookout
