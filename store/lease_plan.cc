#include "store/lease_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace lookout {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t fnv1a_over(uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// MurmurHash3's fmix64. A multiplication carries only upwards, so FNV-1a's low byte is a hash
// with 8 bits of state: names whose low bytes meet once share a shard whatever follows alike.
// The finaliser mixes every bit into the low ones.
uint64_t murmur_finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// stable_hash of node, a zero byte and the lease name, without building that string.
uint64_t rendezvous_weight(std::string_view node, std::string_view lease) {
  uint64_t h = fnv1a_over(kFnvOffset, node);
  h = fnv1a_over(h, std::string_view("\0", 1));
  return murmur_finish(fnv1a_over(h, lease));
}

}  // namespace

uint64_t stable_hash(std::string_view bytes) {
  return murmur_finish(fnv1a_over(kFnvOffset, bytes));
}

int shard_of(std::string_view monitor) {
  return static_cast<int>(stable_hash(monitor) % kLeaseShards);
}

LeaseSpace LeaseSpace::probing(std::string_view location) {
  return LeaseSpace(fmt::format("probe/{}/", location));
}

LeaseSpace LeaseSpace::evaluation() { return LeaseSpace("eval/"); }

std::string LeaseSpace::lease(int shard) const { return fmt::format("{}{}", prefix_, shard); }

std::optional<int> LeaseSpace::shard(std::string_view lease) const {
  if (lease.substr(0, prefix_.size()) != prefix_) return std::nullopt;
  const std::string_view digits = lease.substr(prefix_.size());
  int shard = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), shard);
  if (ec != std::errc() || end != digits.data() + digits.size() || shard < 0 ||
      shard >= kLeaseShards || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  return shard;
}

std::vector<std::string> LeaseSpace::deal(std::vector<std::string> nodes) const {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  if (nodes.empty()) return {};
  const size_t bound = (kLeaseShards + nodes.size() - 1) / nodes.size();

  struct Pair {
    uint64_t weight;
    size_t node;  // index into the sorted nodes
    int shard;
  };
  std::vector<Pair> pairs;
  pairs.reserve(nodes.size() * kLeaseShards);
  for (int shard = 0; shard < kLeaseShards; ++shard) {
    const std::string name = lease(shard);
    for (size_t i = 0; i < nodes.size(); ++i) {
      pairs.push_back({rendezvous_weight(nodes[i], name), i, shard});
    }
  }
  // Equal weights are next to impossible; the order still must not depend on the input's.
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    if (a.node != b.node) return a.node < b.node;
    return a.shard < b.shard;
  });

  // Every shard finds a node: loads only grow, so a shard all of whose pairs met a full node
  // would leave every node full, with more than 255 shards dealt, which cannot be.
  std::vector<std::optional<size_t>> owner(kLeaseShards);
  std::vector<size_t> load(nodes.size(), 0);
  int dealt = 0;
  for (const Pair& p : pairs) {
    auto& o = owner[static_cast<size_t>(p.shard)];
    if (o || load[p.node] == bound) continue;
    o = p.node;
    ++load[p.node];
    if (++dealt == kLeaseShards) break;
  }
  std::vector<std::string> out;
  out.reserve(kLeaseShards);
  for (const auto& o : owner) out.push_back(nodes[o.value()]);
  return out;
}

LeasePlan plan_leases(const LeaseSpace& space, std::string_view self,
                      const std::vector<std::string>& live, const std::vector<std::string>& held) {
  const std::vector<std::string> owners = space.deal(live);
  LeasePlan plan;
  for (int shard = 0; shard < static_cast<int>(owners.size()); ++shard) {
    if (owners[static_cast<size_t>(shard)] == self) plan.acquire.push_back(space.lease(shard));
  }
  for (const std::string& name : held) {
    const std::optional<int> shard = space.shard(name);
    if (!shard) continue;  // another space's lease
    if (owners.empty() || owners[static_cast<size_t>(*shard)] != self) {
      plan.release.push_back(name);
    }
  }
  return plan;
}

}  // namespace lookout
