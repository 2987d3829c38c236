#include "core/crash.h"

#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace lookout {
namespace {

std::mutex secrets_mu;
std::vector<std::shared_ptr<const Redactor>> secrets;

std::string uncaught_message() {
  const std::exception_ptr e = std::current_exception();
  if (!e) return "std::terminate was called without an exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

[[noreturn]] void on_terminate() {
  std::string message = uncaught_message();
  // A thread that crashed while holding the lock must not hang the report.
  std::unique_lock lock(secrets_mu, std::try_to_lock);
  if (!lock.owns_lock() || secrets.empty()) {
    message = "(its message is withheld: it could hold a secret)";
  } else {
    for (const auto& s : secrets) message = s->apply(std::move(message));
  }
  std::fprintf(stderr, "lookout: fatal: an uncaught exception stopped the process: %s\n",
               message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

void guard_crash_output() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  std::set_terminate(&on_terminate);
}

void mask_in_crash_output(std::shared_ptr<const Redactor> redactor) {
  if (!redactor || redactor->empty()) return;
  std::lock_guard lock(secrets_mu);
  for (const auto& s : secrets) {
    if (s == redactor) return;
  }
  secrets.push_back(std::move(redactor));
}

}  // namespace lookout
