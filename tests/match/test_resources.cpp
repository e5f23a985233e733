#include "match/resources.hpp"

#include <catch2/catch.hpp>

using namespace gostly::match;

TEST_CASE("match::resources: paths read as collection, resource, or resource and action", "[match]") {
  auto collection = parse_resource_path("/v1/orders");
  REQUIRE(collection);
  CHECK(collection->collection == "/v1/orders");
  CHECK(collection->id.empty());

  auto item = parse_resource_path("/v1/orders/42");
  REQUIRE(item);
  CHECK(item->collection == "/v1/orders");
  CHECK(item->id == "42");
  CHECK(item->action.empty());

  auto action = parse_resource_path("/orders/ord_1234abcd/pay");
  REQUIRE(action);
  CHECK(action->collection == "/orders");
  CHECK(action->id == "ord_1234abcd");
  CHECK(action->action == "pay");

  auto nested = parse_resource_path("/users/42/posts/7");
  REQUIRE(nested);
  CHECK(nested->collection == "/users/42/posts");
  CHECK(nested->id == "7");

  CHECK_FALSE(parse_resource_path("/42"));
  CHECK_FALSE(parse_resource_path("/"));
  CHECK_FALSE(parse_resource_path("/users/"));
}

TEST_CASE("match::resources: the bundled statecharts and their lookups", "[match]") {
  for (const char* name : {"/charges", "/v1/customers", "/invoices", "/order", "/subscriptions"}) {
    INFO(name);
    CHECK(statechart_for(name) != nullptr);
  }
  CHECK(statechart_for("/users") == nullptr);
  const auto& order = *statechart_for("/api/orders");
  CHECK(order.initial == "pending");
  REQUIRE(order.find("pending", "pay"));
  CHECK(order.find("pending", "pay")->to == "paid");
  CHECK(order.find("delivered", "pay") == nullptr);
  CHECK(order.knows("ship"));
  CHECK_FALSE(order.knows("fly"));
  CHECK(order.allowed("paid") == std::vector<std::string_view>{"ship", "cancel", "refund"});
}

TEST_CASE("match::resources: the status field is status, or state when only that exists", "[match]") {
  CHECK(status_field({{"status", "a"}, {"state", "b"}}) == "status");
  CHECK(status_field({{"state", "b"}}) == "state");
  CHECK(status_field({{"id", 1}}) == "status");
}

TEST_CASE("match::resources: new ids follow the recorded id's shape and never repeat", "[match]") {
  ResourceStore store;
  store.note_id("/users", "41");
  store.note_id("/users", "7");
  CHECK(store.next_id("/users", 3) == "42");
  CHECK(store.next_id("/users", 3) == "43");

  auto a = store.next_id("/charges", "ch_3Nx8abc12XyZ");
  auto b = store.next_id("/charges", "ch_3Nx8abc12XyZ");
  CHECK(a.rfind("ch_", 0) == 0);
  CHECK(a.size() == std::string("ch_3Nx8abc12XyZ").size());
  CHECK(a != b);
  auto uuid = store.next_id("/things", "123e4567-e89b-12d3-a456-426614174000");
  CHECK(uuid.size() == 36);
  CHECK(uuid[8] == '-');
  CHECK(uuid.find_first_not_of("0123456789abcdef-") == std::string::npos);
}

TEST_CASE("match::resources: the store remembers puts and deletions per collection", "[match]") {
  ResourceStore store;
  const nlohmann::ordered_json* found = nullptr;
  CHECK(store.find("/users", "1", found) == ResourceStore::Lookup::absent);
  store.put("/users", "1", {{"id", 1}});
  REQUIRE(store.find("/users", "1", found) == ResourceStore::Lookup::present);
  CHECK((*found)["id"] == 1);
  CHECK(store.find("/posts", "1", found) == ResourceStore::Lookup::absent);
  store.erase("/users", "1");
  CHECK(store.find("/users", "1", found) == ResourceStore::Lookup::deleted);
  store.clear();
  CHECK(store.find("/users", "1", found) == ResourceStore::Lookup::absent);
}
