#include "store/records.h"

namespace lookout {

const char* to_string(State s) {
  switch (s) {
    case State::kUnknown:
      return "unknown";
    case State::kUp:
      return "up";
    case State::kDegraded:
      return "degraded";
    case State::kDown:
      return "down";
    case State::kMaintenance:
      return "maintenance";
  }
  return "unknown";
}

std::optional<State> state_from_string(const std::string& s) {
  for (State st :
       {State::kUnknown, State::kUp, State::kDegraded, State::kDown, State::kMaintenance}) {
    if (s == to_string(st)) return st;
  }
  return std::nullopt;
}

}  // namespace lookout
