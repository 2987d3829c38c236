#include "alerting/state_machine.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

constexpr Outcome U = Outcome::kUp, G = Outcome::kDegraded, D = Outcome::kDown;

// Feeds runs one second apart and returns the states after each.
std::vector<State> feed(StateMachine& sm, std::initializer_list<Outcome> runs, int fail_after = 2,
                        int recover_after = 2) {
  std::vector<State> out;
  WallTime t{};
  for (Outcome o : runs) {
    t += std::chrono::seconds(1);
    sm.apply(o, t, fail_after, recover_after);
    out.push_back(sm.state());
  }
  return out;
}

TEST(StateMachine, FirstRunSetsTheStateDirectly) {
  StateMachine a, b;
  EXPECT_EQ(feed(a, {D}), std::vector<State>{State::kDown});
  EXPECT_EQ(feed(b, {U}), std::vector<State>{State::kUp});
}

TEST(StateMachine, FailAfterConsecutiveFailures) {
  StateMachine sm;
  EXPECT_EQ(feed(sm, {U, D, U, D, D}),
            (std::vector<State>{State::kUp, State::kUp, State::kUp, State::kUp, State::kDown}));
}

TEST(StateMachine, RecoverAfterConsecutivePasses) {
  StateMachine sm;
  EXPECT_EQ(feed(sm, {D, U, D, U, U, U}, 2, 3),
            (std::vector<State>{State::kDown, State::kDown, State::kDown, State::kDown,
                                State::kDown, State::kUp}));
}

TEST(StateMachine, WorstOfTheFailingRunsWins) {
  StateMachine sm;
  EXPECT_EQ(feed(sm, {U, G, D}, 2), (std::vector<State>{State::kUp, State::kUp, State::kDown}));
  StateMachine g;
  EXPECT_EQ(feed(g, {U, G, G}, 2), (std::vector<State>{State::kUp, State::kUp, State::kDegraded}));
  // The last fail_after runs decide: G then D is down; later D, G still down; G, G degraded.
  EXPECT_EQ(feed(g, {D, D, G, G}, 2),
            (std::vector<State>{State::kDown, State::kDown, State::kDown, State::kDegraded}));
}

TEST(StateMachine, SinceMovesOnlyOnChange) {
  StateMachine sm;
  sm.apply(U, WallTime{std::chrono::seconds(10)}, 2, 2);
  sm.apply(U, WallTime{std::chrono::seconds(20)}, 2, 2);
  EXPECT_EQ(sm.since(), WallTime{std::chrono::seconds(10)});
  EXPECT_FALSE(sm.apply(D, WallTime{std::chrono::seconds(30)}, 2, 2));
  EXPECT_TRUE(sm.apply(D, WallTime{std::chrono::seconds(40)}, 2, 2));
  EXPECT_EQ(sm.since(), WallTime{std::chrono::seconds(40)});
}

TEST(StateMachine, RestoredHistoryContinuesTheStreak) {
  StateMachine sm(State::kUp, WallTime{}, "uuud");
  EXPECT_TRUE(sm.apply(D, WallTime{std::chrono::seconds(1)}, 2, 2));
  EXPECT_EQ(sm.state(), State::kDown);
  EXPECT_EQ(sm.recent(), "uuudd");
  StateMachine garbage(State::kDown, WallTime{}, "x!u");
  EXPECT_EQ(garbage.recent(), "u");
}

TEST(StateMachine, HistoryIsBounded) {
  StateMachine sm;
  for (int i = 0; i < 500; ++i) sm.apply(U, WallTime{}, 2, 2);
  EXPECT_EQ(sm.recent().size(), StateMachine::kMaxHistory);
}

}  // namespace
}  // namespace lookout
