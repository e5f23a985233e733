#pragma once
// gostly-transition --verify: after a transition, every incoming interaction is replayed, in
// input order, against the library as MOCK would load it (match::ServiceMatcher, the same
// cascade, in-process, no sockets), and those that would not be answered as recorded are
// reported: another recording wins (a shadowed duplicate: the same request recorded with another
// response; the library keeps each request's recordings from the latest session that made it, so
// an earlier session's is shadowed), the cascade rewrites the answer, or the request
// misses, notably because it carries a per-run value (a cache-buster, a timestamp, a uuid in the
// query or body) that a rerun sends fresh: such a request is replayed the way a rerun sends it,
// with those values changed.
//
// Each session replays as a fresh run (replay cursors reset when the session changes), so a
// sequence recorded within one session (pending, then done) is answered as recorded.
// Memory: the libraries of the services seen (as MOCK holds them) plus a 64-bit digest and an id
// per library recording; incoming interactions are checked one at a time.
#include "record/interaction.hpp"
#include "store/library_db.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gostly::transition {

struct VerifyFinding {
  enum class Kind { shadowed, rewritten, missed, per_run_value };
  Kind kind = Kind::missed;
  std::string at;          // where the interaction came from: "file:line"
  std::string service_id;
  std::string method;
  std::string uri;
  std::string tier;        // the tier that answered (X-Ghost-Mock), "miss" when none did
  std::string answered_by; // shadowed: the id of the recording that answers instead
  std::string detail;      // human-readable why
};

/// "shadowed", "rewritten", "missed", "per-run value".
std::string_view kind_name(VerifyFinding::Kind kind) noexcept;

struct VerifyResult {
  static constexpr std::size_t kMaxFindings = 1000; // listed; past this only counted
  std::uint64_t checked = 0;
  std::uint64_t as_recorded = 0;
  std::uint64_t problems = 0;           // every finding, listed or not
  std::vector<VerifyFinding> findings;  // the first kMaxFindings
};

/// The request a rerun would send: `request` with each value of a volatile format in the query,
/// a form body or a JSON body (an epoch time in seconds or milliseconds, an RFC 3339 time, a
/// uuid) changed to another of the same format. `changed` gets where ("query _cb", "body $.ts");
/// empty when there was nothing to change (the request is then returned as is).
record::Request rerun_request(const record::Request& request, std::vector<std::string>& changed);

class Verifier {
public:
  /// Reads each service's library from `db` when its first interaction is checked.
  explicit Verifier(store::LibraryDb& db);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  /// Replays `incoming` (as the library stored it: redacted, ids overridden) and records a
  /// finding unless it is answered as recorded. `at` names it in the report.
  void check(const record::Interaction& incoming, const std::string& at);

  const VerifyResult& result() const noexcept;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace gostly::transition
