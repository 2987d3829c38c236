#include "config/channels/matrix_spec.h"

#include <fmt/format.h>

#include "config/channels/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& matrix_keys() {
  static const std::set<std::string> k{"url", "access_token", "room_id"};
  return k;
}

std::shared_ptr<const ChannelSpec> parse_matrix(ChannelKeys& k) {
  auto spec = std::make_shared<MatrixSpec>();
  Parser& p = k.parser();
  k.url("url", {"https://", "http://"});
  if (auto v = k.credential("access_token")) spec->access_token = std::move(*v);
  if (const auto* n = k.required("room_id")) {
    auto v = p.text(*n, "room_id");
    // The send API takes a room's id only: an alias would answer 404 on every notification.
    if (v && (v->reveal().size() < 2 || v->reveal()[0] != '!')) {
      p.error(n->source(),
              fmt::format("room_id {} must be a room id (\"!abc:example.org\", in the room's "
                          "settings under Advanced), not an alias",
                          v->shown()));
    } else if (v) {
      spec->room_id = std::move(*v);
    }
  }
  return spec;
}

}  // namespace

extern const ChannelParser kMatrixChannel{"matrix", &matrix_keys, &parse_matrix};

}  // namespace lookout::config_detail
