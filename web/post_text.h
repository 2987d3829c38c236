// A post's plain text as HTML: escaped (also valid inside XML), with http:// and https:// URLs
// up to the next white space made links. Pure, so it is fuzzed on its own.
#pragma once

#include <string>
#include <string_view>

namespace lookout {

// No markup but those links can come out of it, whatever `text` holds.
std::string post_body_html(std::string_view text);

}  // namespace lookout
