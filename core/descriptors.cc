#include "core/descriptors.h"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace lookout {

uint64_t raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim.rlim_cur;
}

size_t runs_within_descriptor_limit(uint64_t limit) {
  constexpr uint64_t kReserved = 256;
  constexpr uint64_t kPerRun = 3;
  const uint64_t reserved = std::min(kReserved, limit / 2);
  return static_cast<size_t>(std::max<uint64_t>(1, (limit - reserved) / kPerRun));
}

bool descriptors_exhausted() {
  // One more descriptor, if there is one, closed again at once: an eventfd needs no file or
  // other descriptor to make.
  const int fd = eventfd(0, EFD_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return false;
  }
  return errno == EMFILE || errno == ENFILE;
}

}  // namespace lookout
