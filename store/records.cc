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

const char* to_string(PostStatus s) {
  switch (s) {
    case PostStatus::kInvestigating:
      return "investigating";
    case PostStatus::kIdentified:
      return "identified";
    case PostStatus::kMonitoring:
      return "monitoring";
    case PostStatus::kResolved:
      return "resolved";
  }
  return "investigating";
}

const char* to_string(PostImpact i) {
  switch (i) {
    case PostImpact::kNone:
      return "none";
    case PostImpact::kMinor:
      return "minor";
    case PostImpact::kMajor:
      return "major";
    case PostImpact::kCritical:
      return "critical";
  }
  return "none";
}

std::optional<PostStatus> post_status_from_string(const std::string& s) {
  for (PostStatus st : {PostStatus::kInvestigating, PostStatus::kIdentified,
                        PostStatus::kMonitoring, PostStatus::kResolved}) {
    if (s == to_string(st)) return st;
  }
  return std::nullopt;
}

std::optional<PostImpact> post_impact_from_string(const std::string& s) {
  for (PostImpact i :
       {PostImpact::kNone, PostImpact::kMinor, PostImpact::kMajor, PostImpact::kCritical}) {
    if (s == to_string(i)) return i;
  }
  return std::nullopt;
}

}  // namespace lookout
