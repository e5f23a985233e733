#pragma once
// The MOCK match cascade for one service (DESIGN.md "Match cascade in MOCK"): given a request,
// find the stored response to send, and say which tier found it. Pure logic, no networking:
// gostly-serve owns one ServiceMatcher per service and turns an Answer into wire bytes.
//
// Tiers, tried in this fixed order:
//   1. session_verbatim     the live LEARN session (RAM only, credentials included), keyed like exact
//   2. exact                method + URI (path and query as sent) + request body
//      normalized           (still tier 2, on an exact miss) the same request once per-run values
//                           are set aside: see normalize.hpp
//   3. resource_store       a resource created by an earlier POST, served on GET by id; a
//                           recorded GET of a resource this run changed shows the change
//   4. resource_transition  bundled statecharts advance a resource's status
//   5. smart_swap           id-like path segments become {id}; `/users/42` answers `/users/99`
//   6. miss                 a 404 JSON body explaining why, naming the nearest recordings
#include "record/interaction.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::match {

enum class Tier { session_verbatim, exact, normalized, resource_store, resource_transition, smart_swap, miss };

/// The `X-Ghost-Mock` header value for `tier`: "session-verbatim", "exact", "normalized", "resource_store",
/// "resource_transition", "smart_swap", "miss".
std::string_view header_value(Tier tier) noexcept;

/// The `match_type` label of `ghost_requests_total` for `tier`: "session_verbatim", "exact",
/// "normalized", "resource_store", "resource_transition", "smart_swap", "miss".
std::string_view metric_label(Tier tier) noexcept;

/// Turns a stored response into the bytes the server sends. Supplied by the server; called once
/// per stored response when it is loaded or added (never per request), with the tier it will be
/// answered under (session_verbatim for session_add, exact for load_library), except that a
/// library response is prepared for the normalized tier on its first normalized answer. It may return
/// nullptr, or the function may be empty; then Answer::prepared is nullptr.
using PrepareFn = std::function<std::shared_ptr<const std::string>(const record::Response&, Tier)>;

struct Answer {
  Tier tier = Tier::miss;
  /// Always set. For a miss: status 404, `Content-Type: application/json`, a body explaining why.
  /// For smart_swap / resource tiers the body may be rewritten (ids swapped, status advanced).
  std::shared_ptr<const record::Response> response;
  /// Wire bytes from PrepareFn, set only when `response` is a stored response sent as-is
  /// (session_verbatim, exact, normalized, and smart_swap when no id needed replacing); else
  /// nullptr.
  std::shared_ptr<const std::string> prepared;
  /// The `X-Ghost-Transition` value ("order:pending->paid") for resource_transition; else empty.
  std::string transition;
};

/// Default of gostly-serve's --session-buffer-max: 64 MiB.
inline constexpr std::uint64_t kDefaultSessionBufferMax = std::uint64_t{64} << 20;

/// The byte budget of the session-verbatim tier, shared by every ServiceMatcher given it
/// (gostly-serve has one for all its services). Each key of a live session is charged what it
/// holds: its method, URI and request body, and for each recording the response (reason, headers,
/// body) twice, once as stored and once as the wire bytes it is replayed from, plus a fixed
/// overhead for the index nodes. When an add takes the total past max_bytes(), the keys added to
/// least recently, in any service, are evicted until it fits (O(1) amortised per add); a key
/// larger than the whole budget is not kept. 0 disables the tier. Thread-safe.
class SessionBudget {
public:
  explicit SessionBudget(std::uint64_t max_bytes = kDefaultSessionBufferMax);
  ~SessionBudget();
  SessionBudget(const SessionBudget&) = delete;
  SessionBudget& operator=(const SessionBudget&) = delete;

  std::uint64_t max_bytes() const noexcept;
  /// Bytes charged to the keys held now (gostly_session_buffer_bytes); never above max_bytes().
  std::uint64_t bytes() const noexcept;
  /// Keys evicted to stay within the budget so far (gostly_session_buffer_evictions_total).
  std::uint64_t evictions() const noexcept;

private:
  friend class ServiceMatcher;
  struct State;
  std::unique_ptr<State> state_;
};

/// The cascade for one service. Every method is thread-safe: match() takes no exclusive lock on
/// the hot path (it reads an immutable snapshot; replay cursors are atomics), while
/// load_library() and session_add() publish a new snapshot.
class ServiceMatcher {
public:
  /// `prepare` turns stored responses into wire bytes once; see PrepareFn. The live session lives
  /// within `budget`; without one, the matcher has its own of kDefaultSessionBufferMax.
  explicit ServiceMatcher(PrepareFn prepare = {}, std::shared_ptr<SessionBudget> budget = {});
  ~ServiceMatcher();
  ServiceMatcher(const ServiceMatcher&) = delete;
  ServiceMatcher& operator=(const ServiceMatcher&) = delete;

  /// Replaces the library with `library` (in recorded order: earlier entries replay first for a
  /// repeated key), precomputes every index, resets replay cursors and the resource store.
  void load_library(std::vector<record::Interaction> library);

  /// Starts every repeated exact key from its first recording again and forgets resources created
  /// through resource_store (the server calls this when the mode flips to MOCK).
  void reset_cursors();

  /// Adds one interaction of the live LEARN session (credentials included; kept in RAM only).
  /// Recordings of the same key replay in recorded order, then the last repeats (as in exact).
  /// May evict the least recently added keys of any matcher sharing the budget; does nothing
  /// when the budget is 0.
  void session_add(const record::Interaction& interaction);

  /// Forgets the live session.
  void session_clear();

  /// Runs the cascade for `request`. Never throws (an internal failure answers as a miss).
  Answer match(const record::Request& request);

  /// Number of interactions in the loaded library (ghost_mock_library_size).
  std::size_t library_size() const;

  /// Number of interactions held for the live session.
  std::size_t session_size() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace gostly::match
