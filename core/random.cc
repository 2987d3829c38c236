#include "core/random.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace lookout {

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("the system's random source failed");
  }
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace lookout
