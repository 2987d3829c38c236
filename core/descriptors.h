// File descriptors, the one resource a monitoring daemon runs out of first: every run in
// flight holds a connection, and the default soft limit (1024) is below what a few thousand
// monitors need.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lookout {

// Raises the soft RLIMIT_NOFILE to the hard one (which the unit sets with LimitNOFILE) and
// returns the soft limit then in force.
uint64_t raise_descriptor_limit();

// How many runs may be in flight under a descriptor limit. A run holds up to three (its
// connection, and for a host name the socket pair of libcurl's resolver thread); a share is
// kept for everything else: the database, web connections, alert deliveries. Pure.
size_t runs_within_descriptor_limit(uint64_t limit);

// True when this process cannot open one more descriptor now (EMFILE or ENFILE).
bool descriptors_exhausted();

}  // namespace lookout
