#include "alerting/incident_ids.h"

#include "store/pg_decisions.h"

namespace lookout {

IncidentIds::IncidentIds(PgConnection& pg, int batch, size_t low, std::function<void()> arrived,
                         std::function<void(const std::string& error)> failed)
    : pg_(pg),
      batch_(batch),
      low_(low),
      arrived_(std::move(arrived)),
      failed_(std::move(failed)),
      self_(std::make_shared<IncidentIds*>(this)) {}

IncidentIds::~IncidentIds() { *self_ = nullptr; }

void IncidentIds::top_up() {
  if (reserving_ || ids_.size() >= low_) return;
  reserving_ = true;
  const PgStatement s = PgDecisions::reserve_incident_ids(batch_);
  pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
    IncidentIds* ids = *self;
    if (ids == nullptr) return;
    ids->reserving_ = false;
    const auto reserved = PgDecisions::reserved_ids(answer);
    if (!reserved) {
      ids->failed_(answer.ok() ? "an answer in a shape this lookout does not know" : answer.error);
      return;
    }
    ids->ids_.insert(ids->ids_.end(), reserved->begin(), reserved->end());
    if (ids->arrived_) ids->arrived_();
  });
}

int64_t IncidentIds::take() {
  const int64_t id = ids_.front();
  ids_.pop_front();
  return id;
}

}  // namespace lookout
