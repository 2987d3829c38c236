// The dns monitors' baselines in a cluster's PostgreSQL (schema version 13), one per monitor and
// location: a monitor's answers may differ by where it is asked from (GeoDNS), so each location
// is held to what it saw itself. Each row also keeps the answers its location saw last, so that
// an accept made through any node takes them at once. Pure, like PgPosts: the caller runs the
// statements on its connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/pg_connection.h"
#include "store/storage.h"

namespace lookout {

// One location's baseline of a monitor, and what it saw last.
struct LocationBaseline {
  Baseline baseline;
  std::vector<std::string> seen;
  bool operator==(const LocationBaseline&) const = default;
};

// What list() read.
struct BaselinesRead {
  int64_t version = 0;  // baseline_version, moved by every new or accepted baseline
  // The location's rows by monitor; nullopt when the version is the one the reader knew, and
  // nothing was read.
  std::optional<std::map<std::string, LocationBaseline>> rows;
};

class PgBaselines {
 public:
  // Every baseline of `location`, unless baseline_version is still `known` (-1, which it never
  // is, reads them).
  static PgStatement list(const std::string& location, int64_t known);
  // list()'s answer; nullopt for a failure or an answer of another shape.
  static std::optional<BaselinesRead> read(const PgResult& answer, int64_t known);

  // What a run at `location` saw, `seen`, beside the baseline it was held to (a first run's own
  // answers when it had none). Written when the location has no row, or one for another
  // question (the config asks something else now: `baseline` replaces it), or when `seen`
  // differs from the answers kept; a baseline already kept for the question stays, whatever
  // `baseline` says (another node of the location wrote it first, and the reader brings it).
  // Moves the version when it writes.
  static PgStatement report(const std::string& monitor, const std::string& location,
                            const Baseline& baseline, const std::vector<std::string>& seen);
  // report()'s answer: whether it wrote; nullopt for a failure or another shape.
  static std::optional<bool> reported(const PgResult& answer);

  // Every location's last answers to `question` become its baseline, and the version moves.
  static PgStatement accept(const std::string& monitor, const std::string& question);
  // accept()'s answer: the accepted answers by location, none when no location had seen any;
  // nullopt for a failure or another shape.
  static std::optional<std::map<std::string, std::vector<std::string>>> accepted(
      const PgResult& answer);
};

}  // namespace lookout
