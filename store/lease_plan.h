// How cluster mode splits its work into leases, and which of them a node aims to hold. Pure: no
// clock, no database; every node computes the same answer from the same list of live nodes.
//
// A monitor belongs to one of 256 shards by a hash of its name that is the same on every node
// and platform. Each kind of work has one lease per shard: probing from a location
// (`probe/<location>/<shard>`, shared by the live nodes of that location) and evaluating
// (`eval/<shard>`, shared by every live node). The shards of a lease space are dealt out by
// rendezvous hashing with bounded loads: a fair share for each live node, and when a node joins
// or leaves few shards move besides the ones that must.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lookout {

inline constexpr int kLeaseShards = 256;

// FNV-1a (64 bits) over the bytes, then MurmurHash3's 64-bit finaliser so that the low bits
// (which pick the shard) depend on every byte. Only unsigned 64-bit arithmetic: the same value
// on every node, compiler and platform. Never change it: nodes of different versions must agree.
uint64_t stable_hash(std::string_view bytes);

// stable_hash(monitor name) mod 256.
int shard_of(std::string_view monitor);

// The 256 leases of one kind of work.
class LeaseSpace {
 public:
  // probe/<location>/<shard>: the monitors probed from `location`.
  static LeaseSpace probing(std::string_view location);
  // eval/<shard>: the monitors whose state and incidents are decided.
  static LeaseSpace evaluation();

  // The lease of `shard` (0..255).
  std::string lease(int shard) const;
  // The shard of a lease of this space; nullopt for any other name.
  std::optional<int> shard(std::string_view lease) const;

  // Each shard's node (index: shard) among `nodes` (order and repeats do not matter); empty
  // when there is none. Rendezvous hashing with bounded loads: every (node, shard) pair has a
  // weight, stable_hash(node, a zero byte, lease name); pairs are taken heaviest first, and a
  // shard goes to the node of its first pair whose node has fewer than ceil(256 / N) shards.
  // So with N nodes each has at most ceil(256 / N) shards and at least
  // 256 - (N - 1) * ceil(256 / N); a node that joins takes its heaviest shards, one that leaves
  // gives each of its shards to the node that weighs it next, and the others keep theirs, but
  // for the few that the changed bound pushes on (tests/unit/store/lease_plan_test.cc measures
  // how few).
  std::vector<std::string> deal(std::vector<std::string> nodes) const;

 private:
  explicit LeaseSpace(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string prefix_;
};

// What a node does with one lease space at a renewal.
struct LeasePlan {
  // Its share, in shard order: the leases to renew (those it holds) or take (the others; the
  // database gives only those that are free).
  std::vector<std::string> acquire;
  // Leases it holds that are in another live node's share now (a node joined, or came back):
  // released at once, so that their owner takes them at its next renewal rather than a lease
  // later.
  std::vector<std::string> release;
};

// `self`'s plan in `space`, given the live nodes that share it (the location's for probing,
// the whole cluster's for evaluation) and the leases of the space it holds. The live nodes'
// shares cover every shard, so a node never takes a lease outside its share: a dead node's
// shards are in the others' shares as soon as it is no longer live, and they take them as soon
// as its leases have run out. A node that is not among the live nodes (its own row is stale:
// the others count it dead) aims for nothing and releases what it holds.
LeasePlan plan_leases(const LeaseSpace& space, std::string_view self,
                      const std::vector<std::string>& live, const std::vector<std::string>& held);

}  // namespace lookout
