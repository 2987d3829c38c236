// Acknowledgements in cluster mode, as statements and answers (docs/cluster.md#acknowledgements).
// Any node takes one (an ack link, the API, a provider's callback) and records it in
// ack_requests; the node deciding the incident's monitor applies it through its alert engine,
// which writes the event and its notifications under the eval lease's fence, and then deletes
// the request under the same fence. A request taken while no node decides the shard waits for
// the next decider: none is lost. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/lease_registry.h"
#include "store/pg_connection.h"

namespace lookout {

// What asking answered: the incident is not there (or is a location's meta-incident, which is
// not acknowledged), resolved, acknowledged or asked for already, or asked for now.
enum class AckAsked { kUnknown, kResolved, kAlready, kAsked };

// A request waiting for the node that decides its incident.
struct AckRequestRow {
  int64_t incident_id = 0;
  std::string by;         // link | api
  int64_t waited_ms = 0;  // since it was asked for, by the server's clock
  int shard = 0;          // of the incident's monitor
};

class PgAcks {
 public:
  // Records an acknowledgement of `incident_id` by `by` (link | api), taken on `node`, unless
  // the incident is resolved, acknowledged or asked for already. Read with asked().
  static PgStatement ask(int64_t incident_id, const std::string& by, const std::string& node);
  static std::optional<AckAsked> asked(const PgResult& answer);

  // The requests about incidents of `shards`, oldest first. Read with requests().
  static PgStatement waiting(const std::vector<int>& shards);
  static std::optional<std::vector<AckRequestRow>> requests(const PgResult& answer);

  // The request deleted once applied (or found moot), only while `fence` holds: a node that
  // lost the shard leaves it to the next decider, which finds the incident acknowledged and
  // deletes it then. Read with LeaseRegistry::fence_outcome().
  static PgStatement done(const LeaseFence& fence, int64_t incident_id);
};

}  // namespace lookout
