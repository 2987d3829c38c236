// The status page's email subscribers, in SQLite: read whole at start-up (a book of some
// thousands), each row written when the loop's book changes it. Erasing an address also
// takes it out of the outbox, and cancels the mails still waiting for it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/records.h"

namespace lookout {

// Every row, tombstones too, by id.
std::vector<SubscriberRecord> read_subscribers(sqlite3* db);
// Inside the caller's transaction. `forgotten`: addresses erased before any row of theirs was
// written, whose mail is cancelled too.
bool write_subscribers(sqlite3* db, const std::map<int64_t, SubscriberRecord>& rows,
                       const std::set<std::string>& forgotten, std::string& error);

}  // namespace lookout
