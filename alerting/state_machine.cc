#include "alerting/state_machine.h"

#include <algorithm>

namespace lookout {
namespace {

char letter(Outcome o) {
  switch (o) {
    case Outcome::kUp:
      return 'u';
    case Outcome::kDegraded:
      return 'g';
    case Outcome::kDown:
      return 'd';
  }
  return 'd';
}

Outcome from_letter(char c) {
  return c == 'u' ? Outcome::kUp : c == 'g' ? Outcome::kDegraded : Outcome::kDown;
}

}  // namespace

State state_of(Outcome o) {
  switch (o) {
    case Outcome::kUp:
      return State::kUp;
    case Outcome::kDegraded:
      return State::kDegraded;
    case Outcome::kDown:
      return State::kDown;
  }
  return State::kDown;
}

StateMachine::StateMachine(State state, WallTime since, std::string recent)
    : state_(state), since_(since), recent_(std::move(recent)) {
  recent_.erase(std::remove_if(recent_.begin(), recent_.end(),
                               [](char c) { return c != 'u' && c != 'g' && c != 'd'; }),
                recent_.end());
  if (recent_.size() > kMaxHistory) recent_.erase(0, recent_.size() - kMaxHistory);
}

bool StateMachine::apply(Outcome run, WallTime at, int fail_after, int recover_after) {
  recent_.push_back(letter(run));
  if (recent_.size() > kMaxHistory) recent_.erase(0, recent_.size() - kMaxHistory);

  State next = state_;
  if (state_ == State::kUnknown) {
    next = state_of(run);
  } else if (run == Outcome::kUp) {
    const size_t n = static_cast<size_t>(recover_after);
    if (recent_.size() >= n && std::all_of(recent_.end() - static_cast<long>(n), recent_.end(),
                                           [](char c) { return c == 'u'; })) {
      next = State::kUp;
    }
  } else {
    const size_t n = static_cast<size_t>(fail_after);
    if (recent_.size() >= n) {
      Outcome worst = Outcome::kUp;
      bool all_bad = true;
      for (auto it = recent_.end() - static_cast<long>(n); it != recent_.end(); ++it) {
        const Outcome o = from_letter(*it);
        if (o == Outcome::kUp) all_bad = false;
        worst = std::max(worst, o);
      }
      if (all_bad) next = state_of(worst);
    }
  }
  if (next == state_) return false;
  state_ = next;
  since_ = at;
  return true;
}

}  // namespace lookout
