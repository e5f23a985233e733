// Precision and recall of the drift detector over the deterministic corpus (corpus.hpp).
// A positive pair counts as found when an event on the expected route carries the expected
// signal with the expected severity; every other event is a false alarm.
#include "corpus.hpp"
#include "drift/route.hpp"

#include <catch2/catch.hpp>

#include <iostream>

using namespace gostly::drift;

TEST_CASE("drift::corpus: precision and recall over the issue 10 corpus", "[drift][corpus]") {
  int tp = 0, fp = 0, fn = 0;
  for (const auto& c : corpus::cases()) {
    corpus::Session baseline, current;
    c.build(baseline, current);
    learn_route_templates(baseline.fp, current.fp); // as check and diff do
    auto drifts = diff(baseline.fp, current.fp, DiffOptions{10});
    bool found = false;
    for (const auto& d : drifts) {
      bool match = false;
      if (c.expected && d.key.route == c.expected->route && d.severity == c.expected->severity)
        for (const auto& s : d.signals) match = match || s.kind == c.expected->signal;
      if (match && !found) {
        found = true;
        ++tp;
      } else {
        ++fp;
        UNSCOPED_INFO("false alarm [item " << c.item << "] " << c.name << ": " << d.key.route << " " << d.change_type
                      << " " << to_string(d.severity) << " " << signals_to_json(d.signals).dump());
      }
    }
    if (c.expected && !found) {
      ++fn;
      UNSCOPED_INFO("missed [item " << c.item << "] " << c.name);
    }
  }
  double precision = tp + fp == 0 ? 1.0 : static_cast<double>(tp) / (tp + fp);
  double recall = tp + fn == 0 ? 1.0 : static_cast<double>(tp) / (tp + fn);
  std::cout << "drift corpus: " << corpus::cases().size() << " pairs, TP " << tp << ", FP " << fp << ", FN " << fn
            << ", precision " << precision << ", recall " << recall << "\n";
  CHECK(fp == 0);
  CHECK(fn == 0);
}
