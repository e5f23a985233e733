#include "drift/commands.hpp"

#include "cli/tool.hpp"
#include "drift/api.hpp"
#include "drift/check.hpp"
#include "drift/score.hpp"
#include "drift/sparkline.hpp"
#include "record/jsonl.hpp"
#include "store/data_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace gostly::drift {
namespace {

std::unique_ptr<store::LibraryDb> open_existing(const Options& options) {
  store::DataDir dir(options.data_dir, options.store);
  if (!dir.library().exists())
    throw NotFoundError(dir.library().name() + ": no library yet (record with gostly-record | gostly-transition)");
  return std::make_unique<store::LibraryDb>(dir.library());
}

void write_jsonl(const std::vector<nlohmann::json>& records) {
  record::JsonlWriter out(STDOUT_FILENO, "<stdout>", record::Flush::batched);
  for (const auto& r : records) out.write_line(r.dump());
  out.flush();
}

int drift_status(const Options& options, std::uint64_t new_major, std::uint64_t new_minor) {
  if (options.fail_on == "major") return new_major > 0 ? cli::kFound : cli::kOk;
  return new_major + new_minor > 0 ? cli::kFound : cli::kOk;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

} // namespace

int run_check_command(const Options& options) {
  auto db = open_existing(options);
  EventStore events(*db);
  auto result = run_check(events, CheckRequest{options.service, options.baseline, options.current},
                          DriftSettings::from_environment(), util::now_iso8601());
  std::vector<nlohmann::json> records;
  for (const auto& e : result.events) records.push_back(to_json(e));
  write_jsonl(records);
  spdlog::info("{} drifted routes, {} new ({} major, {} minor)", result.events.size(),
               result.new_major + result.new_minor, result.new_major, result.new_minor);
  return drift_status(options, result.new_major, result.new_minor);
}

int run_diff_command(const Options& options) {
  if (options.files.size() != 2) throw UsageError("diff needs two files: BASELINE.jsonl CURRENT.jsonl");
  auto events = diff_files(FileDiffRequest{options.files[0], options.files[1], options.service_given ? options.service : ""},
                           DriftSettings::from_environment(), util::now_iso8601());
  std::vector<nlohmann::json> records;
  std::uint64_t major = 0, minor = 0;
  for (const auto& e : events) {
    records.push_back(to_json(e));
    ++(e.severity == Severity::major ? major : minor);
  }
  write_jsonl(records);
  return drift_status(options, major, minor);
}

int run_events_command(const Options& options) {
  if (options.service_given) util::require_safe_id(options.service, "service id");
  auto db = open_existing(options);
  EventStore events(*db);
  std::vector<nlohmann::json> records;
  for (const auto& e : events.list(options.service_given ? std::optional(options.service) : std::nullopt, options.open_only))
    records.push_back(to_json(e));
  write_jsonl(records);
  return cli::kOk;
}

int run_ack_command(const Options& options) {
  auto id = api::parse_event_id(options.event_id);
  auto db = open_existing(options);
  EventStore events(*db);
  auto before = events.get(id);
  if (!before) throw NotFoundError("no drift event with id " + std::to_string(id));
  auto ack = events.acknowledge(id, options.user.empty() ? std::nullopt : std::optional(options.user),
                                options.reason.empty() ? std::nullopt : std::optional(options.reason), util::now_iso8601());
  if (options.json) {
    write_jsonl({api::event(*db, id)});
  } else {
    auto after = events.get(id);
    std::cout << "acknowledged drift event " << id << " (" << after->method << " " << after->route << ")";
    if (before->acknowledged_at) std::cout << "; first acknowledged at " << *after->acknowledged_at;
    std::cout << "\n";
  }
  (void)ack;
  return cli::kOk;
}

int run_show_command(const Options& options) {
  auto id = api::parse_event_id(options.event_id);
  auto db = open_existing(options);
  write_jsonl({api::event(*db, id)});
  return cli::kOk;
}

int run_sessions_command(const Options& options) {
  util::require_safe_id(options.service, "service id");
  auto db = open_existing(options);
  auto rows = db->sessions(options.service);
  if (options.json) {
    std::vector<nlohmann::json> records;
    for (const auto& r : rows)
      records.push_back({{"type", "session"}, {"v", 1}, {"service_id", r.service_id}, {"session_id", r.session_id},
                         {"first_recorded_at", r.first_recorded_at}, {"last_recorded_at", r.last_recorded_at},
                         {"interactions", r.interactions}, {"learn_interactions", r.learn_interactions}});
    write_jsonl(records);
    return cli::kOk;
  }
  if (rows.empty()) {
    spdlog::warn("service '{}' has no recorded sessions", options.service);
    return cli::kOk;
  }
  std::cout << pad("SESSION", 40) << pad("FIRST RECORDED", 26) << pad("LAST RECORDED", 26) << pad("INTERACTIONS", 14)
            << "LEARN\n";
  for (const auto& r : rows)
    std::cout << pad(r.session_id, 40) << pad(r.first_recorded_at, 26) << pad(r.last_recorded_at, 26)
              << pad(std::to_string(r.interactions), 14) << r.learn_interactions << "\n";
  return cli::kOk;
}

int run_sparkline_command(const Options& options) {
  util::require_safe_id(options.service, "service id");
  auto db = open_existing(options);
  EventStore events(*db);
  auto now = std::chrono::system_clock::now();
  auto days = recent_days(events, options.service, now);
  if (options.json) {
    write_jsonl({sparkline_json(options.service, days)});
    return cli::kOk;
  }
  std::uint64_t major = 0, minor = 0;
  for (const auto& d : days) major += d.major, minor += d.minor;
  std::cout << options.service << "  " << render_sparkline(days, now) << "  major " << major << "  minor " << minor
            << "  (" << utc_day(now, kSparklineDays - 1) << " .. " << utc_day(now) << ")\n";
  return cli::kOk;
}

int run_score_command(const Options& options) {
  if (options.service_given) util::require_safe_id(options.service, "service id");
  store::DataDir dir(options.data_dir, options.store);
  std::vector<FreshnessScore> scores;
  auto now = std::chrono::system_clock::now();
  if (dir.library().exists()) {
    store::LibraryDb db(dir.library());
    EventStore events(db);
    auto settings = DriftSettings::from_environment();
    if (options.service_given) {
      scores.push_back(compute_score(events, options.service, now, settings));
    } else {
      for (const auto& row : db.services()) scores.push_back(compute_score(events, row.id, now, settings));
    }
  } else if (options.service_given) {
    FreshnessScore never;
    never.service_id = options.service;
    scores.push_back(never);
  }
  if (options.json) {
    std::vector<nlohmann::json> records;
    for (const auto& s : scores) records.push_back(to_json(s));
    write_jsonl(records);
    return cli::kOk;
  }
  if (scores.empty()) {
    spdlog::warn("no services recorded in {}", options.data_dir);
    return cli::kOk;
  }
  std::cout << pad("SERVICE", 24) << pad("SCORE", 7) << pad("LAST RECORDED", 26) << pad("ROUTES", 8) << "OPEN DRIFT\n";
  for (const auto& s : scores)
    std::cout << pad(s.service_id, 24) << pad(std::to_string(s.parts.score), 7)
              << pad(s.last_recorded_at.value_or("never"), 26) << pad(std::to_string(s.distinct_routes), 8)
              << s.open_drift_event_count << "\n";
  return cli::kOk;
}

} // namespace gostly::drift
