// The MOCK cascade for one service.
//
// gostly-serve calls match() for every request in MOCK, so the matcher is built for a hot path
// that costs one hash lookup and a few reference-count increments: everything that can be
// decided ahead of time is decided in load_library() (keys, canonical request bodies, templates,
// the wire bytes of every response via PrepareFn), and the result is an immutable Library
// snapshot published through an atomic shared_ptr. Readers never lock; a reload builds the next
// snapshot on the side and swaps it in, and requests already holding the old one finish on it.
//
// The only mutable state in a snapshot is the replay cursor of a key recorded more than once
// (`GET /posts/1` before and after a PATCH): the recordings replay in recorded order and then the
// last one repeats, so a suite replayed in order sees what it saw live. A cursor is an atomic
// that saturates at the last recording; once there, matching it writes nothing, so a hot key
// causes no cache-line traffic between threads.
//
// Lookup is two-level, URI then method then body, so that the body is only canonicalised (JSON
// parsed and re-serialised; see request_key.hpp) when the library holds a recording with a body
// for that very method and URI. A GET with no body never touches the body path.
//
// The live LEARN session (session_verbatim) changes with every recorded request, so it is not a
// snapshot but one index behind a shared_mutex: session_add() takes it exclusively, match() only
// shared, and only when the session is non-empty (an atomic count checked first), which keeps a
// pure-MOCK server off that lock entirely.
//
// The session lives within a byte budget (SessionBudget, shared by every service of a server):
// its keys sit on one intrusive list across services, newest added last, and an add that takes
// the total past the budget unlinks and erases keys from the old end. Nothing is copied or
// scanned: an add costs O(1) plus the keys it evicts, each of which was added once. Writers take
// the budget's mutex first and then a service's session lock (their own, and the owner's of each
// key they evict); readers take only their service's lock, shared, so they never see a key
// half-erased, and an Answer holds its own references to the response and its bytes.
//
// The resource tiers (resource_store, resource_transition) are the only ones with state that
// requests change: resources created, updated, deleted or advanced through a statechart while
// mocking. They sit behind one mutex, which requests that reach tier 3 take, and so do replays
// (exact or session-verbatim) of recordings that create, change or delete a resource by id:
// the store learns from them as from its own tiers. A replayed read of a resource (GET by id)
// takes it only once some resource has changed (one atomic flag, so a run that changes nothing
// pays a load per hit); then a resource changed since the recording was made is answered as it
// is now, the recorded body with the changes applied (resource_store), and one never touched
// still exactly as recorded. Answers built per request carry no prepared bytes. The store keeps
// what the session did until reset_cursors() or a reload.
#include "match/matcher.hpp"

#include "match/miss.hpp"
#include "match/normalize.hpp"
#include "match/request_key.hpp"
#include "match/resources.hpp"
#include "match/smart_swap.hpp"
#include "util/encoding.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <type_traits>
#include <unordered_map>

namespace gostly::match {

std::string_view header_value(Tier tier) noexcept {
  switch (tier) {
  case Tier::session_verbatim: return "session-verbatim";
  case Tier::exact: return "exact";
  case Tier::normalized: return "normalized";
  case Tier::resource_store: return "resource_store";
  case Tier::resource_transition: return "resource_transition";
  case Tier::smart_swap: return "smart_swap";
  case Tier::miss: break;
  }
  return "miss";
}

std::string_view metric_label(Tier tier) noexcept {
  switch (tier) {
  case Tier::session_verbatim: return "session_verbatim";
  case Tier::exact: return "exact";
  case Tier::normalized: return "normalized";
  case Tier::resource_store: return "resource_store";
  case Tier::resource_transition: return "resource_transition";
  case Tier::smart_swap: return "smart_swap";
  case Tier::miss: break;
  }
  return "miss";
}

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

using Json = nlohmann::ordered_json;

enum class Touch : unsigned char { none, reads, writes };

struct Stored {
  std::shared_ptr<const record::Response> response;
  std::shared_ptr<const std::string> prepared;      // for the tier of the index that holds it
  std::shared_ptr<const std::string> prepared_swap; // library responses whose path has an id
  // Session recordings are prepared on their first replay, not when recorded: most of a LEARN
  // session is never replayed, and preparing costs a serialization on the recording path.
  // Library recordings use the same slot for their normalized-tier bytes, made on the first
  // normalized answer (most recordings never give one).
  mutable std::once_flag lazy_once;
  mutable std::shared_ptr<const std::string> lazy_prepared;
  // The resource it creates, changes or reads (resource_ref()), and its place in recorded order:
  // set when loaded, for the session on the first replay (under lazy_once).
  mutable std::shared_ptr<const ResourceRef> touches;
  mutable Touch touch = Touch::none; // what `touches` says, read on every hit without following it
  Seq seq = 0;

  void set_touches(std::shared_ptr<const ResourceRef> ref) const noexcept {
    touch = !ref ? Touch::none : ref->kind == ResourceRef::Kind::read ? Touch::reads : Touch::writes;
    touches = std::move(ref);
  }
};
using StoredPtr = std::shared_ptr<const Stored>;

// All recordings of one key, in recorded order.
struct Slot {
  std::vector<StoredPtr> recordings;
  mutable std::atomic<std::size_t> cursor{0};

  const Stored& current() const noexcept {
    return *recordings[std::min(cursor.load(std::memory_order_relaxed), recordings.size() - 1)];
  }

  const Stored& next() const noexcept {
    auto last = recordings.size() - 1;
    if (last == 0) return *recordings.front();
    auto i = cursor.load(std::memory_order_relaxed);
    while (i < last && !cursor.compare_exchange_weak(i, i + 1, std::memory_order_relaxed)) {
    }
    return *recordings[std::min(i, last)];
  }
};

template <class S>
struct BasicRoute { // one method on one URI
  std::string method;
  std::unordered_map<std::string, S> by_body; // canonical body -> recordings
  const S* bodyless = nullptr;
  bool has_bodies = false;
};

struct SessionShard;

// A key of the live session: a Slot that knows where it sits in its index (to be erased without
// a search) and on its budget's list (to be evicted in the order keys were added to).
struct SessionSlot : Slot {
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
  SessionShard* shard = nullptr;             // the service's session that holds it
  BasicRoute<SessionSlot>* route = nullptr;
  const std::string* uri = nullptr;          // the key of its by_uri_ entry
  const std::string* body = nullptr;         // the key of its by_body entry
  std::size_t repeated_at = npos;            // its place in repeated_, once recorded twice
  // Guarded by the budget's mutex:
  std::uint64_t bytes = 0;                   // charged to the budget
  SessionSlot* older = nullptr;
  SessionSlot* newer = nullptr;
};

template <class S>
class BasicExactIndex {
public:
  using Route = BasicRoute<S>;
  struct Added {
    S* slot;
    bool new_key;
    StoredPtr replaced; // the recording the new one replaced, when the key was full
  };

  // `max_per_key` bounds one key's replay sequence (0 = unbounded): once full, the newest
  // recording replaces the last one, so the sequence keeps its start and its latest answer.
  Added add(std::string_view method, std::string_view uri, std::string canonical, StoredPtr stored,
            std::size_t max_per_key = 0) {
    auto uri_entry = by_uri_.find(uri);
    if (uri_entry == by_uri_.end()) uri_entry = by_uri_.try_emplace(std::string(uri)).first;
    auto& routes = uri_entry->second;
    Route* route = nullptr;
    for (auto& r : routes)
      if (r->method == method) route = r.get();
    if (!route) {
      routes.push_back(std::make_unique<Route>());
      route = routes.back().get();
      route->method = method;
    }
    bool bodyless = canonical.empty();
    auto [body_entry, new_key] = route->by_body.try_emplace(std::move(canonical));
    S& slot = body_entry->second;
    if (max_per_key > 0 && slot.recordings.size() >= max_per_key) {
      Added added{&slot, new_key, std::move(slot.recordings.back())};
      slot.recordings.back() = std::move(stored);
      return added;
    }
    try {
      slot.recordings.push_back(std::move(stored));
    } catch (...) { // out of memory: leave no key without a recording behind
      if (new_key) route->by_body.erase(body_entry);
      throw;
    }
    if constexpr (std::is_same_v<S, SessionSlot>) {
      if (new_key) {
        slot.route = route;
        slot.uri = &uri_entry->first;
        slot.body = &body_entry->first;
      }
    }
    if (bodyless) route->bodyless = &slot;
    else route->has_bodies = true;
    if (slot.recordings.size() == 2) {
      if constexpr (std::is_same_v<S, SessionSlot>) slot.repeated_at = repeated_.size();
      repeated_.push_back(&slot);
    }
    ++size_;
    return {&slot, new_key, nullptr};
  }

  // Removes one key and its recordings (session keys only); `slot` is destroyed.
  void erase(SessionSlot& slot) requires std::is_same_v<S, SessionSlot> {
    size_ -= slot.recordings.size();
    if (slot.repeated_at != SessionSlot::npos) { // swap with the last, pop
      S* moved = repeated_.back();
      repeated_[slot.repeated_at] = moved;
      moved->repeated_at = slot.repeated_at;
      repeated_.pop_back();
    }
    Route* route = slot.route;
    auto uri_entry = by_uri_.find(*slot.uri);
    if (route->bodyless == &slot) route->bodyless = nullptr;
    route->by_body.erase(route->by_body.find(*slot.body));
    if (!route->by_body.empty()) {
      route->has_bodies = route->by_body.size() > (route->bodyless ? 1u : 0u);
      return;
    }
    auto& routes = uri_entry->second;
    routes.erase(std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.get() == route; }));
    if (routes.empty()) by_uri_.erase(uri_entry);
  }

  template <class F>
  void for_each_key(F&& f) {
    for (auto& [uri, routes] : by_uri_)
      for (auto& route : routes)
        for (auto& [body, slot] : route->by_body) f(slot);
  }

  const S* find(std::string_view method, std::string_view uri, std::string_view body) const {
    auto it = by_uri_.find(uri);
    if (it == by_uri_.end()) return nullptr;
    for (const auto& route : it->second) {
      if (route->method != method) continue;
      if (body.empty()) return route->bodyless;
      if (!route->has_bodies) return nullptr;
      auto slot = route->by_body.find(canonical_body(body));
      return slot == route->by_body.end() ? nullptr : &slot->second;
    }
    return nullptr;
  }

  void reset() const noexcept {
    for (const auto* slot : repeated_) slot->cursor.store(0, std::memory_order_relaxed);
  }
  std::size_t size() const noexcept { return size_; }
  void clear() {
    by_uri_.clear();
    repeated_.clear();
    size_ = 0;
  }

private:
  StringMap<std::vector<std::unique_ptr<Route>>> by_uri_;
  std::vector<S*> repeated_;
  std::size_t size_ = 0;
};

using ExactIndex = BasicExactIndex<Slot>;

// One service's live session.
struct SessionShard {
  mutable std::shared_mutex mutex;
  BasicExactIndex<SessionSlot> index;   // guarded by mutex
  std::atomic<std::size_t> count{0};    // index.size(), read without the lock
  Seq next_seq = kSessionSeq;           // guarded by mutex: the next recording's place
};

// What a session key and a recording are charged (see SessionBudget). The strings count by their
// length; the fixed parts are what the nodes around them take on a 64-bit libstdc++ with glibc's
// allocator (sizes plus allocation headers and hash buckets), rounded up: a key is a by_uri_
// entry, a route with its bucket array, a by_body entry and a slot; a recording is a Stored and a
// Response (each with a shared_ptr control block), the response's empty `extra` object, and the
// string of wire bytes made on its first replay (status line, headers, X-Ghost-Mock, body).
// Checked against gostly-serve's RSS over 5000 distinct keys, each replayed once: 1.7 KB real
// for 2.4 KB charged with 100-byte bodies, 19.7 KB real for 18.6 KB charged with 8 KiB ones
// (the rest is the heap's own slack).
constexpr std::uint64_t kSessionKeyOverhead = 640;
constexpr std::uint64_t kSessionRecordingOverhead = 1024;

std::uint64_t key_charge(std::string_view method, std::string_view uri, std::string_view canonical) noexcept {
  return kSessionKeyOverhead + method.size() + uri.size() + canonical.size();
}

std::uint64_t recording_charge(const record::Response& response) noexcept {
  std::uint64_t text = response.reason.size() + response.body.size();
  for (const auto& [name, value] : response.headers) text += name.size() + value.size();
  auto headers = static_cast<std::uint64_t>(response.headers.size());
  std::uint64_t stored = text + headers * sizeof(record::Headers::value_type);
  std::uint64_t wire = text + headers * 4 /* ": " CRLF */;
  return kSessionRecordingOverhead + stored + wire;
}

struct SwapCandidate {
  StoredPtr stored;
  std::vector<std::string> ids; // the recorded id at each {id} of the template, in order
  std::string query;
  std::string canonical;        // request body
};

// The recorded answer to creating a resource in a collection, used for creations in MOCK.
struct Prototype {
  int status = 201;
  std::string reason;
  Json resource;
};

// The normalized tier's recordings of one method on one path, in recorded order.
struct NormalizedRoute {
  struct Candidate {
    StoredPtr stored;
    Normalized form;
    std::size_t group = 0; // candidates with the same signature replay in recorded order
  };
  std::string method;
  std::vector<Candidate> candidates;
  std::vector<std::string> ignored;                 // query parameters set aside (sorted)
  mutable std::vector<std::atomic<std::size_t>> cursors; // per group, saturating like Slot's
};

// A long history of one endpoint bounds the work of an exact miss: the first recordings of a
// method and path are its normalized candidates, later ones answer only exactly.
constexpr std::size_t kMaxNormalizedCandidates = 256;

struct Library {
  ExactIndex exact;
  StringMap<std::vector<NormalizedRoute>> normalized; // path -> one entry per method
  // Templates seeds declared (OpenAPI's `/users/{username}`, from `seed.path_template`) whose
  // parameters the id heuristic does not see, as indexed in `swap` ("/users/{id}"): a request
  // is fitted to them when its own template finds nothing.
  std::vector<std::string> declared_templates;
  StringMap<Prototype> creators; // "POST" collection template path -> first recorded creation
  std::vector<std::pair<std::string, std::string>> known_ids; // (collection, id) named by recorded paths
  StringMap<std::vector<SwapCandidate>> swap; // "METHOD /template/{id}" -> recordings
  std::vector<RouteRef> routes;               // distinct method + URI, for misses
  StringMap<std::vector<std::size_t>> routes_by_path;
  std::size_t size = 0;
};

std::string swap_key(std::string_view method, std::string_view template_path) {
  std::string key;
  key.reserve(method.size() + 1 + template_path.size());
  key.append(method).append(" ").append(template_path);
  return key;
}

// The recording of `candidates` that fits `wanted` best: every recorded id that equals the
// requested one outweighs the rest, then the query, then the body.
const SwapCandidate* best_candidate(const std::vector<SwapCandidate>& candidates, const PathTemplate& wanted,
                                    std::string_view query, std::string_view body) {
  std::optional<std::string> canonical;
  const SwapCandidate* best = nullptr;
  int best_score = -1;
  for (const auto& candidate : candidates) {
    int score = 0;
    for (std::size_t k = 0; k < candidate.ids.size(); ++k)
      if (candidate.ids[k] == wanted.segments[wanted.id_positions[k]]) score += 4;
    if (candidate.query == query) score += 2;
    if (!candidate.canonical.empty() || !body.empty()) {
      if (!canonical) canonical = canonical_body(body);
      if (candidate.canonical == *canonical) score += 1;
    } else {
      score += 1;
    }
    if (score > best_score) {
      best = &candidate;
      best_score = score;
    }
  }
  return best;
}

// The path's own template first; else the first declared template it follows that has recordings.
std::optional<std::pair<PathTemplate, const std::vector<SwapCandidate>*>>
find_swap_candidates(const Library& library, std::string_view method, std::string_view path) {
  if (library.swap.empty()) return std::nullopt;
  auto lookup = [&](PathTemplate wanted) -> std::optional<std::pair<PathTemplate, const std::vector<SwapCandidate>*>> {
    if (wanted.id_positions.empty()) return std::nullopt;
    auto it = library.swap.find(swap_key(method, wanted.path));
    if (it == library.swap.end()) return std::nullopt;
    return std::make_pair(std::move(wanted), &it->second);
  };
  if (auto found = lookup(make_template(path))) return found;
  for (const auto& declared : library.declared_templates)
    if (auto wanted = make_template(path, declared))
      if (auto found = lookup(std::move(*wanted))) return found;
  return std::nullopt;
}

// The template a seed declared for this recording (`seed.path_template`), if it has one.
std::optional<std::string_view> declared_path_template(const record::Interaction& interaction) {
  const auto& extra = interaction.extra;
  if (!extra.is_object()) return std::nullopt;
  auto seed = extra.find("seed");
  if (seed == extra.end() || !seed->is_object()) return std::nullopt;
  auto templ = seed->find("path_template");
  if (templ == seed->end() || !templ->is_string()) return std::nullopt;
  return std::string_view(templ->get_ref<const std::string&>());
}

std::optional<Answer> smart_swap(const Library& library, std::string_view method, std::string_view uri,
                                 std::string_view body) {
  auto found = find_swap_candidates(library, method, record::uri_path(uri));
  if (!found) return std::nullopt;
  const auto& wanted = found->first;
  const SwapCandidate* best = best_candidate(*found->second, wanted, record::uri_query(uri), body);

  std::vector<IdSwap> swaps;
  for (std::size_t k = 0; k < best->ids.size(); ++k) {
    std::string_view now = wanted.segments[wanted.id_positions[k]];
    const auto& was = best->ids[k];
    bool known = std::any_of(swaps.begin(), swaps.end(), [&](const IdSwap& s) { return s.first == was; });
    if (was != now && !known) swaps.emplace_back(was, std::string(now));
  }
  const auto& stored = *best->stored;
  if (swaps.empty()) return Answer{Tier::smart_swap, stored.response, stored.prepared_swap, {}};

  auto rewritten = std::make_shared<record::Response>(*stored.response);
  bool changed_any = false;
  bool changed = false;
  if (body_is_editable(*stored.response)) {
    const auto& recorded = stored.response->body;
    if (looks_like_json(recorded)) rewritten->body = replace_ids(recorded, swaps, true, changed);
    else if (util::is_valid_utf8(recorded)) rewritten->body = replace_ids(recorded, swaps, false, changed);
    changed_any = changed;
  }
  for (auto& [name, value] : rewritten->headers) {
    if (util::iequals(name, "Location") || util::iequals(name, "Content-Location")) {
      value = replace_ids(value, swaps, false, changed);
      changed_any = changed_any || changed;
    }
  }
  if (!changed_any) return Answer{Tier::smart_swap, stored.response, stored.prepared_swap, {}};
  for (auto& [name, value] : rewritten->headers)
    if (util::iequals(name, "Content-Length")) value = std::to_string(rewritten->body.size());
  return Answer{Tier::smart_swap, std::move(rewritten), nullptr, {}};
}

bool is_collection_path(std::string_view path) {
  auto segments = split_path(path);
  return !segments.empty() && !segments.back().empty() && !is_id_segment(segments.back());
}

Json id_value(const std::string& id) {
  bool digits = !id.empty() && id.size() < 19 && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits ? Json(std::stoll(id)) : Json(id);
}

Answer json_answer(Tier tier, int status, const Json& body, std::string transition = {}) {
  auto response = std::make_shared<record::Response>();
  response->status = status;
  response->reason = status == 200 ? "OK" : status == 201 ? "Created" : status == 204 ? "No Content"
                   : status == 404 ? "Not Found" : status == 409 ? "Conflict" : "";
  if (status != 204) {
    response->headers = {{"Content-Type", "application/json"}};
    response->body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return Answer{tier, std::move(response), nullptr, std::move(transition)};
}

// What the library says resource `id` looks like now: the recorded GET of its path (without
// moving that key's replay cursor), else a smart_swap of a sibling's recording, else nothing.
std::optional<Json> recorded_resource(const Library& library, std::string_view path) {
  if (const auto* slot = library.exact.find("GET", path, {})) {
    const auto& response = *slot->current().response;
    if (body_is_editable(response)) return parse_object(response.body);
    return std::nullopt;
  }
  if (auto swapped = smart_swap(library, "GET", path, {})) {
    if (swapped->response->status / 100 == 2 && body_is_editable(*swapped->response))
      return parse_object(swapped->response->body);
  }
  return std::nullopt;
}

std::optional<Answer> transition(const Library& library, ResourceStore& store, const Statechart& chart,
                                 const ResourcePath& target, std::string_view action) {
  std::string path = target.collection + "/" + target.id;
  const Json* stored = nullptr;
  Json resource;
  switch (store.find(target.collection, target.id, stored)) {
  case ResourceStore::Lookup::deleted:
    return json_answer(Tier::resource_transition, 404, {{"error", "not found"}, {"reason", "the resource was deleted"}});
  case ResourceStore::Lookup::present: resource = *stored; break;
  case ResourceStore::Lookup::absent:
    resource = recorded_resource(library, path).value_or(Json{{"id", id_value(target.id)}});
    break;
  }
  auto field = std::string(status_field(resource));
  std::string from = resource.contains(field) && resource[field].is_string() ? resource[field].get<std::string>()
                                                                            : std::string(chart.initial);
  const auto* edge = chart.find(from, action);
  if (!edge) {
    Json allowed = Json::array();
    for (auto a : chart.allowed(from)) allowed.push_back(a);
    return json_answer(Tier::resource_transition, 409,
                       {{"error", "invalid transition"}, {"resource", chart.name}, {"id", target.id},
                        {"from", from}, {"action", action}, {"allowed", allowed}});
  }
  if (!stored) store.put(target.collection, target.id, resource); // the resource as recorded, then the change
  resource[field] = edge->to;
  store.change(target.collection, target.id, Json{{field, edge->to}});
  std::string stamp = std::string(chart.name) + ":" + from + "->" + std::string(edge->to);
  return json_answer(Tier::resource_transition, 200, resource, std::move(stamp));
}

std::optional<Answer> resource_tiers(const Library& library, ResourceStore& store, std::string_view method,
                                     std::string_view path, std::string_view body) {
  auto target = parse_resource_path(path);
  if (!target) return std::nullopt;

  if (!target->id.empty()) {
    if (const auto* chart = statechart_for(target->collection)) {
      std::string action;
      if (method == "POST" && chart->knows(target->action)) {
        action = target->action;
      } else if (method == "PATCH" && target->action.empty()) {
        auto patch = parse_object(body);
        if (patch && patch->size() == 1 && patch->contains("action") && (*patch)["action"].is_string() &&
            chart->knows((*patch)["action"].get<std::string>()))
          action = (*patch)["action"].get<std::string>();
      }
      if (!action.empty()) return transition(library, store, *chart, *target, action);
    }
  }

  if (method == "POST" && is_collection_path(path)) {
    auto proto = library.creators.find(make_template(path).path);
    if (proto == library.creators.end()) return std::nullopt;
    Json resource = proto->second.resource;
    if (auto fields = parse_object(body)) resource.update(*fields);
    const auto& example = proto->second.resource["id"];
    auto id = store.next_id(path, example);
    resource["id"] = example.is_number_integer() ? id_value(id) : Json(id);
    if (const auto* chart = statechart_for(path)) {
      auto field = std::string(status_field(resource));
      if (!resource.contains(field)) resource[field] = chart->initial;
    }
    store.put(path, id, resource);
    return json_answer(Tier::resource_store, proto->second.status, resource);
  }

  if (target->id.empty() || !target->action.empty()) return std::nullopt;
  const Json* found = nullptr;
  auto lookup = store.find(target->collection, target->id, found);
  if (lookup == ResourceStore::Lookup::absent) return std::nullopt;
  if (lookup == ResourceStore::Lookup::deleted)
    return json_answer(Tier::resource_store, 404, {{"error", "not found"}, {"reason", "the resource was deleted"}});
  if (method == "GET") return json_answer(Tier::resource_store, 200, *found);
  if (method == "DELETE") {
    store.erase(target->collection, target->id);
    return json_answer(Tier::resource_store, 204, {});
  }
  if (method == "PUT" || method == "PATCH") {
    auto fields = parse_object(body);
    if (!fields) return std::nullopt;
    Json id = found->contains("id") ? (*found)["id"] : Json();
    if (method == "PUT") {
      if (!id.is_null()) (*fields)["id"] = id;
      store.replace(target->collection, target->id, std::move(*fields));
    } else {
      fields->erase("id");
      store.change(target->collection, target->id, *fields);
    }
    store.find(target->collection, target->id, found);
    return json_answer(Tier::resource_store, 200, *found);
  }
  return std::nullopt;
}

std::int64_t unix_seconds(util::SystemTime when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

// The normalized tier's pick, or the reason the nearest recording of the same method and path
// was not close enough (for the miss body), or neither when there is no such recording.
struct NormalizedPick {
  const Stored* stored = nullptr;
  std::string reason;
};

NormalizedPick normalized_match(const Library& library, const record::Request& request, std::string_view uri) {
  auto it = library.normalized.find(record::uri_path(uri));
  if (it == library.normalized.end()) return {};
  const NormalizedRoute* route = nullptr;
  for (const auto& r : it->second)
    if (r.method == request.method) route = &r;
  if (!route) return {};
  auto wanted = normalize(request, uri, unix_seconds(std::chrono::system_clock::now()));
  // Closest: no hard difference and the fewest soft ones; ties go to the earliest recording's
  // group, whose recordings replay in recorded order (as a repeated exact key does).
  std::vector<std::pair<std::size_t, std::size_t>> fits; // (soft, index)
  const NormalizedRoute::Candidate* nearest = nullptr;
  Distance nearest_distance;
  for (std::size_t i = 0; i < route->candidates.size(); ++i) {
    const auto& candidate = route->candidates[i];
    auto d = distance(candidate.form, wanted, route->ignored);
    if (d.hard == 0) {
      fits.emplace_back(d.soft, i);
    } else if (!nearest || d.hard < nearest_distance.hard ||
               (d.hard == nearest_distance.hard && d.soft < nearest_distance.soft)) {
      nearest = &candidate;
      nearest_distance = std::move(d);
    }
  }
  if (fits.empty()) return {nullptr, nearest ? std::move(nearest_distance.reason) : std::string()};
  auto best = std::min_element(fits.begin(), fits.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto group = route->candidates[best->second].group;
  std::vector<std::size_t> tied;
  for (const auto& [soft, i] : fits)
    if (soft == best->first && route->candidates[i].group == group) tied.push_back(i);
  auto& cursor = route->cursors[group];
  auto last = tied.size() - 1;
  auto k = cursor.load(std::memory_order_relaxed);
  while (k < last && !cursor.compare_exchange_weak(k, k + 1, std::memory_order_relaxed)) {
  }
  return {route->candidates[tied[std::min(k, last)]].stored.get(), {}};
}

std::string describe(std::string_view method, std::string_view path) {
  std::string s(method);
  s += ' ';
  s += path;
  return s;
}

Answer explain_miss(const Library& library, std::size_t session_size, std::string_view method,
                    std::string_view uri, std::string_view body, const std::string& normalized_reason) {
  std::string reason;
  auto path = record::uri_path(uri);
  if (library.size == 0 && session_size == 0) {
    reason = "the mock library is empty";
  } else if (auto it = library.routes_by_path.find(path); it != library.routes_by_path.end()) {
    bool same_uri = false;
    bool same_method = false;
    std::string other_methods;
    for (auto i : it->second) {
      const auto& route = library.routes[i];
      if (route.method == method) {
        same_method = true;
        same_uri = same_uri || route.uri == uri;
      } else if (other_methods.find(route.method) == std::string::npos) {
        other_methods += (other_methods.empty() ? "" : ", ") + route.method;
      }
    }
    if (same_method && !normalized_reason.empty())
      reason = describe(method, path) + " was recorded, but " + normalized_reason;
    else if (same_uri)
      reason = describe(method, uri) + " was recorded, but with a different request body" +
               (body.empty() ? " (this request has none)" : "");
    else if (same_method)
      reason = describe(method, path) + " was recorded, but with a different query string";
    else
      reason = std::string(path) + " was recorded only with " + other_methods;
  } else {
    reason = "no recording for " + describe(method, path);
  }
  std::vector<const RouteRef*> nearest;
  for (auto i : nearest_routes(library.routes, method, uri)) nearest.push_back(&library.routes[i]);
  return Answer{Tier::miss, miss_response(method, uri, reason, nearest, library.size), nullptr, {}};
}

Answer last_resort_miss() noexcept {
  // Built once, so answering a miss cannot fail even when memory is exhausted.
  static const auto response = [] {
    auto r = std::make_shared<record::Response>();
    r->status = 404;
    r->reason = "Not Found";
    r->headers = {{"Content-Type", "application/json"}};
    r->body = R"({"error":"no mock matched","reason":"internal error while matching"})" "\n";
    return std::shared_ptr<const record::Response>(std::move(r));
  }();
  Answer answer;
  answer.response = response;
  return answer;
}

void add_normalized(Library& library, const record::Request& request, std::string_view uri, const StoredPtr& stored,
                    const std::string& recorded_at, std::int64_t loaded_at) {
  auto& routes = library.normalized[std::string(record::uri_path(uri))];
  auto route = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.method == request.method; });
  if (route == routes.end()) {
    routes.emplace_back();
    route = std::prev(routes.end());
    route->method = request.method;
  }
  if (route->candidates.size() >= kMaxNormalizedCandidates) return;
  auto when = util::parse_iso8601(recorded_at);
  route->candidates.push_back({stored, normalize(request, uri, when ? unix_seconds(*when) : loaded_at), 0});
}

// Once every recording is in: each route's ignored parameters and replay groups.
void finish_normalized(Library& library) {
  for (auto& [path, routes] : library.normalized)
    for (auto& route : routes) {
      std::vector<const Normalized*> forms;
      for (const auto& candidate : route.candidates) forms.push_back(&candidate.form);
      route.ignored = ignored_parameters(forms);
      std::unordered_map<std::string, std::size_t> groups;
      for (auto& candidate : route.candidates)
        candidate.group = groups.try_emplace(signature(candidate.form, route.ignored), groups.size()).first->second;
      route.cursors = std::vector<std::atomic<std::size_t>>(groups.size());
    }
}

} // namespace

struct SessionBudget::State {
  explicit State(std::uint64_t max_bytes) : max(max_bytes) {}
  const std::uint64_t max;
  std::mutex mutex; // taken before any SessionShard::mutex
  // Guarded by mutex: every key of every shard, least recently added first.
  SessionSlot* oldest = nullptr;
  SessionSlot* newest = nullptr;
  std::uint64_t held = 0;
  std::atomic<std::uint64_t> bytes{0}; // held, for readers without the lock
  std::atomic<std::uint64_t> evictions{0};

  void unlink(SessionSlot& slot) noexcept {
    (slot.older ? slot.older->newer : oldest) = slot.newer;
    (slot.newer ? slot.newer->older : newest) = slot.older;
    slot.older = slot.newer = nullptr;
  }

  void push_newest(SessionSlot& slot) noexcept {
    slot.older = newest;
    slot.newer = nullptr;
    (newest ? newest->newer : oldest) = &slot;
    newest = &slot;
  }

  // Erases the oldest keys until the budget holds. `locked` is the shard whose lock the caller
  // holds; another shard's lock is taken for its keys.
  void evict_over_budget(SessionShard& locked) {
    while (held > max && oldest) {
      SessionSlot& victim = *oldest;
      unlink(victim);
      held -= victim.bytes;
      evictions.fetch_add(1, std::memory_order_relaxed);
      SessionShard& owner = *victim.shard;
      if (&owner == &locked) {
        owner.index.erase(victim);
        continue;
      }
      std::unique_lock lock(owner.mutex);
      owner.index.erase(victim);
      owner.count.store(owner.index.size(), std::memory_order_release);
    }
  }
};

SessionBudget::SessionBudget(std::uint64_t max_bytes) : state_(std::make_unique<State>(max_bytes)) {}
SessionBudget::~SessionBudget() = default;
std::uint64_t SessionBudget::max_bytes() const noexcept { return state_->max; }
std::uint64_t SessionBudget::bytes() const noexcept { return state_->bytes.load(std::memory_order_relaxed); }
std::uint64_t SessionBudget::evictions() const noexcept { return state_->evictions.load(std::memory_order_relaxed); }

struct ServiceMatcher::State {
  PrepareFn prepare;
  std::atomic<std::shared_ptr<const Library>> library{std::make_shared<const Library>()};
  std::mutex load_mutex; // serialises reloads; readers never take it

  std::shared_ptr<SessionBudget> budget;
  SessionShard session;

  std::mutex resources_mutex;
  ResourceStore resources; // guarded by resources_mutex

  std::atomic<bool> resources_changed{false}; // resources.has_changes(), read without the lock

  void publish_changes() { resources_changed.store(resources.has_changes(), std::memory_order_release); }

  // Whether replaying `stored` concerns the store: always when it creates, changes or deletes a
  // resource; a read only once some resource has changed, so that exact and session hits pay
  // one atomic load while nothing has.
  bool touches_store(const Stored& stored) const noexcept {
    // none 0, reads 1, writes 2: one test, no branch on the flag.
    return static_cast<unsigned>(stored.touch) + resources_changed.load(std::memory_order_acquire) >= 2;
  }

  // A recording about to be replayed touches a resource: the store learns what it does (a
  // creation, a change, a deletion), and a recording of a resource this run has changed since it
  // was recorded is answered as the resource is now: the recorded body with the changes applied
  // (resource_store), or 404 once deleted. nullopt: answer the recording as it is.
  // Out of line: the exact hit that does not need it stays small.
  [[gnu::noinline]] std::optional<Answer> replay_resource(const Library& snapshot, const Stored& stored) {
    using Kind = ResourceRef::Kind;
    const ResourceRef& ref = *stored.touches;
    const record::Response& response = *stored.response;
    std::lock_guard lock(resources_mutex);
    if (ref.kind == Kind::create) {
      resources.put(ref.collection, ref.id, ref.fields);
      return std::nullopt;
    }
    const auto* entry = resources.entry(ref.collection, ref.id);
    if (entry && entry->deleted) {
      if (stored.seq > *entry->deleted || response.status == 404 || response.status == 410) return std::nullopt;
      return json_answer(Tier::resource_store, 404, {{"error", "not found"}, {"reason", "the resource was deleted"}});
    }
    if (ref.kind == Kind::remove) {
      resources.erase(ref.collection, ref.id, stored.seq);
      publish_changes();
      return std::nullopt;
    }
    if (ref.kind == Kind::change) {
      if (!entry)
        resources.put(ref.collection, ref.id,
                      recorded_resource(snapshot, ref.collection + "/" + ref.id).value_or(Json{{"id", id_value(ref.id)}}));
      resources.change(ref.collection, ref.id, ref.fields, stored.seq);
      publish_changes();
      entry = resources.entry(ref.collection, ref.id);
    }
    if (!entry || (entry->changed.empty() && !entry->replaced)) return std::nullopt;
    if (response.status / 100 != 2 || !body_is_editable(response)) return std::nullopt;
    auto recorded = parse_object(response.body);
    if (!recorded) return std::nullopt;
    if (auto id = recorded->find("id"); id != recorded->end() && id_text(*id) != ref.id) return std::nullopt; // not the resource
    auto now = entry->view(*recorded, stored.seq);
    if (now == *recorded) return std::nullopt;
    auto rewritten = std::make_shared<record::Response>(response);
    rewritten->body = now.dump(-1, ' ', false, Json::error_handler_t::replace);
    for (auto& [name, value] : rewritten->headers)
      if (util::iequals(name, "Content-Length")) value = std::to_string(rewritten->body.size());
    return Answer{Tier::resource_store, std::move(rewritten), nullptr, {}};
  }

  // A session-verbatim hit (the caller holds the session lock shared). Out of line, so that
  // match() stays small for exact hits.
  [[gnu::noinline]] Answer replay_session(const Stored& stored, std::string_view method, std::string_view uri,
                                          std::string_view body) {
    std::call_once(stored.lazy_once, [&] {
      stored.lazy_prepared = prepared(*stored.response, Tier::session_verbatim);
      stored.set_touches(resource_ref(method, record::uri_path(uri), body, *stored.response));
    });
    if (touches_store(stored))
      if (auto answer = replay_resource(*library.load(std::memory_order_acquire), stored)) return std::move(*answer);
    return Answer{Tier::session_verbatim, stored.response, stored.lazy_prepared, {}};
  }

  void restart_resources(const Library& snapshot) {
    std::lock_guard lock(resources_mutex);
    resources.clear();
    for (const auto& [collection, id] : snapshot.known_ids) resources.note_id(collection, id);
    publish_changes();
  }

  std::shared_ptr<const std::string> prepared(const record::Response& response, Tier tier) const {
    return prepare ? prepare(response, tier) : nullptr;
  }
};

ServiceMatcher::ServiceMatcher(PrepareFn prepare, std::shared_ptr<SessionBudget> budget)
    : state_(std::make_unique<State>()) {
  state_->prepare = std::move(prepare);
  state_->budget = budget ? std::move(budget) : std::make_shared<SessionBudget>();
}

// The budget's list must not keep pointers into a session that is gone.
ServiceMatcher::~ServiceMatcher() { session_clear(); }

void ServiceMatcher::load_library(std::vector<record::Interaction> interactions) {
  auto library = std::make_shared<Library>();
  std::unordered_map<std::string, std::size_t> route_index;
  auto loaded_at = unix_seconds(std::chrono::system_clock::now());
  Seq seq = 0;
  for (auto& interaction : interactions) {
    auto& request = interaction.request;
    auto uri = origin_form(request.uri);
    auto path = record::uri_path(uri);
    auto templ = make_template(path);
    // A seed's declared template indexes the recording under its parameters too.
    PathTemplate swap_templ = templ;
    if (auto declared = declared_path_template(interaction)) {
      if (auto widened = make_template(path, *declared); widened && widened->path != templ.path) {
        swap_templ = std::move(*widened);
        if (std::find(library->declared_templates.begin(), library->declared_templates.end(), swap_templ.path) ==
            library->declared_templates.end())
          library->declared_templates.push_back(swap_templ.path);
      }
    }

    auto stored = std::make_shared<Stored>();
    stored->response = std::make_shared<const record::Response>(std::move(interaction.response));
    stored->prepared = state_->prepared(*stored->response, Tier::exact);
    if (!swap_templ.id_positions.empty()) stored->prepared_swap = state_->prepared(*stored->response, Tier::smart_swap);
    auto canonical = canonical_body(request.body);

    stored->seq = seq++; // recorded order
    stored->set_touches(resource_ref(request.method, path, request.body, *stored->response));
    if (const auto* ref = stored->touches.get(); ref && ref->kind == ResourceRef::Kind::create) {
      library->known_ids.emplace_back(ref->collection, ref->id);
      library->creators.try_emplace(templ.path, Prototype{stored->response->status, stored->response->reason, ref->fields});
    }
    if (auto target = parse_resource_path(path); target && !target->id.empty())
      library->known_ids.emplace_back(target->collection, target->id);

    if (!swap_templ.id_positions.empty()) {
      SwapCandidate candidate{stored, {}, std::string(record::uri_query(uri)), canonical};
      for (auto position : swap_templ.id_positions) candidate.ids.emplace_back(swap_templ.segments[position]);
      library->swap[swap_key(request.method, swap_templ.path)].push_back(std::move(candidate));
    }
    add_normalized(*library, request, uri, stored, interaction.recorded_at, loaded_at);
    library->exact.add(request.method, uri, std::move(canonical), std::move(stored));

    auto [it, fresh] = route_index.try_emplace(request.method + ' ' + std::string(uri), library->routes.size());
    if (fresh) {
      library->routes.push_back({request.method, std::string(uri)});
      library->routes_by_path[std::string(path)].push_back(it->second);
    }
  }
  library->size = interactions.size();
  finish_normalized(*library);

  std::lock_guard lock(state_->load_mutex);
  state_->restart_resources(*library);
  state_->library.store(std::move(library), std::memory_order_release);
}

void ServiceMatcher::reset_cursors() {
  auto library = state_->library.load(std::memory_order_acquire);
  library->exact.reset();
  for (const auto& [path, routes] : library->normalized)
    for (const auto& route : routes)
      for (auto& cursor : route.cursors) cursor.store(0, std::memory_order_relaxed);
  state_->restart_resources(*library);
  std::shared_lock lock(state_->session.mutex);
  state_->session.index.reset();
}

// A LEARN session that hammers one endpoint (a load test, a poller) must not grow RAM without
// bound: each key keeps its first recordings in order plus the latest one.
constexpr std::size_t kSessionRepeatsPerKey = 64;

void ServiceMatcher::session_add(const record::Interaction& interaction) {
  auto& budget = *state_->budget->state_;
  if (budget.max == 0) return; // the tier is off
  const auto& method = interaction.request.method;
  auto uri = origin_form(interaction.request.uri);
  auto stored = std::make_shared<Stored>();
  stored->response = std::make_shared<const record::Response>(interaction.response);
  auto canonical = canonical_body(interaction.request.body);
  auto key_bytes = key_charge(method, uri, canonical);
  auto recording_bytes = recording_charge(*stored->response);

  auto& session = state_->session;
  std::lock_guard budget_lock(budget.mutex);
  std::unique_lock lock(session.mutex);
  stored->seq = session.next_seq++;
  auto added = session.index.add(method, uri, std::move(canonical), std::move(stored), kSessionRepeatsPerKey);
  SessionSlot& slot = *added.slot;
  if (added.new_key) {
    slot.shard = &session;
    slot.bytes = key_bytes;
    budget.held += key_bytes;
  } else {
    budget.unlink(slot); // recorded again: now the newest
  }
  slot.bytes += recording_bytes;
  budget.held += recording_bytes;
  if (added.replaced) {
    auto replaced_bytes = recording_charge(*added.replaced->response);
    slot.bytes -= replaced_bytes;
    budget.held -= replaced_bytes;
  }
  budget.push_newest(slot);
  budget.evict_over_budget(session);
  session.count.store(session.index.size(), std::memory_order_release);
  budget.bytes.store(budget.held, std::memory_order_relaxed);
}

void ServiceMatcher::session_clear() {
  auto& budget = *state_->budget->state_;
  auto& session = state_->session;
  std::lock_guard budget_lock(budget.mutex);
  std::unique_lock lock(session.mutex);
  session.index.for_each_key([&](SessionSlot& slot) {
    budget.unlink(slot);
    budget.held -= slot.bytes;
  });
  session.index.clear();
  session.count.store(0, std::memory_order_release);
  budget.bytes.store(budget.held, std::memory_order_relaxed);
}

Answer ServiceMatcher::match(const record::Request& request) {
  try {
    std::string_view method = request.method;
    std::string_view uri = origin_form(request.uri);
    std::string_view body = request.body;

    if (state_->session.count.load(std::memory_order_acquire) > 0) {
      std::shared_lock lock(state_->session.mutex);
      if (const auto* slot = state_->session.index.find(method, uri, body))
        return state_->replay_session(slot->next(), method, uri, body);
    }

    auto library = state_->library.load(std::memory_order_acquire);
    if (const auto* slot = library->exact.find(method, uri, body)) {
      const auto& stored = slot->next();
      if (state_->touches_store(stored)) [[unlikely]]
        if (auto answer = state_->replay_resource(*library, stored)) return std::move(*answer);
      return Answer{Tier::exact, stored.response, stored.prepared, {}};
    }
    auto normalized = normalized_match(*library, request, uri);
    if (const auto* stored = normalized.stored) {
      if (state_->touches_store(*stored)) [[unlikely]]
        if (auto answer = state_->replay_resource(*library, *stored)) return std::move(*answer);
      std::call_once(stored->lazy_once, [&] {
        stored->lazy_prepared = state_->prepared(*stored->response, Tier::normalized);
      });
      return Answer{Tier::normalized, stored->response, stored->lazy_prepared, {}};
    }
    {
      std::lock_guard lock(state_->resources_mutex);
      auto answer = resource_tiers(*library, state_->resources, method, record::uri_path(uri), body);
      state_->publish_changes();
      if (answer) return std::move(*answer);
    }
    if (auto answer = smart_swap(*library, method, uri, body)) return std::move(*answer);
    return explain_miss(*library, state_->session.count.load(std::memory_order_relaxed), method, uri, body,
                        normalized.reason);
  } catch (...) {
    return last_resort_miss();
  }
}

std::size_t ServiceMatcher::library_size() const {
  return state_->library.load(std::memory_order_acquire)->size;
}

std::size_t ServiceMatcher::session_size() const {
  return state_->session.count.load(std::memory_order_acquire);
}

} // namespace gostly::match
