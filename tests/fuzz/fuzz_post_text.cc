// A post's text as HTML: whatever the text, the only tags that come out are the links made of
// its http:// and https:// URLs, every link's address is one of those URLs escaped, and no
// raw '<', '>' or '"' of the text survives outside those tags.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "web/post_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string html = lookout::post_body_html(text);
  static constexpr std::string_view kOpen = "<a href=\"";
  static constexpr std::string_view kMid = "\" rel=\"nofollow noopener noreferrer\">";
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '>' || c == '"') __builtin_trap();
    if (c != '<') {
      ++i;
      continue;
    }
    // A link: <a href="URL" rel="...">URL</a>, the URL an escaped web address.
    if (html.compare(i, kOpen.size(), kOpen) != 0) __builtin_trap();
    const size_t url_start = i + kOpen.size();
    const size_t url_end = html.find('"', url_start);
    if (url_end == std::string::npos) __builtin_trap();
    const std::string url = html.substr(url_start, url_end - url_start);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) __builtin_trap();
    if (url.find_first_of("<> \t\r\n") != std::string::npos) __builtin_trap();
    if (html.compare(url_end, kMid.size(), kMid) != 0) __builtin_trap();
    const size_t text_start = url_end + kMid.size();
    const std::string close = url + "</a>";
    if (html.compare(text_start, close.size(), close) != 0) __builtin_trap();
    i = text_start + close.size();
  }
  return 0;
}
