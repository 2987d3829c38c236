// Incident ids reserved from the database's sequence ahead of time, for a node that opens
// incidents in cluster mode (docs/cluster.md#decisions): an incident's notifications and ack
// link carry its id before it is written, and ids must be unique in the whole cluster. The
// holder keeps a few in hand and asks for `batch` more whenever fewer than `low` are left; an
// id never used is a gap. Runs on the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "store/pg_connection.h"

namespace lookout {

class IncidentIds {
 public:
  // `arrived` runs after more came (the holder may open what waited for one); `failed` with
  // the reason when a reservation failed (tried again at the next top_up()).
  IncidentIds(PgConnection& pg, int batch, size_t low, std::function<void()> arrived,
              std::function<void(const std::string& error)> failed);
  ~IncidentIds();
  IncidentIds(const IncidentIds&) = delete;
  IncidentIds& operator=(const IncidentIds&) = delete;

  // Asks for more when fewer than `low` are in hand and no reservation is out.
  void top_up();
  size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }
  // The next id; not when empty().
  int64_t take();

 private:
  PgConnection& pg_;
  int batch_;
  size_t low_;
  std::function<void()> arrived_;
  std::function<void(const std::string&)> failed_;
  std::deque<int64_t> ids_;
  bool reserving_ = false;
  // Tells an answer that arrives after destruction to do nothing.
  std::shared_ptr<IncidentIds*> self_;
};

}  // namespace lookout
