// Random identifiers and keys: the ack key made at first start, notification ids, the audit's
// probe paths. In the ground layer because storage, alerting and the audit all need them.
#pragma once

#include <cstddef>
#include <string>

namespace lookout {

// Random bytes from OpenSSL, hex-encoded.
std::string random_hex(size_t bytes);

}  // namespace lookout
