#pragma once
// Where gostly-export reads interactions from, one at a time (a 1 GB recording is never held
// whole): an interaction JSONL file or stdin through record::JsonlReader, or a service's
// recordings in the library (library.db) through store::LibraryDb, both optionally filtered by
// service and session.
//
// Namespace: the folder is lib/export, but `export` is a C++ keyword, hence gostly::export_.
#include "record/interaction.hpp"
#include "store/location.hpp"

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <string>

namespace gostly::export_ {

struct SourceOptions {
  /// Interaction JSONL to read ("-" = stdin); empty = the library of `data_dir`.
  std::string input;
  std::string data_dir = "./data";
  std::string store; // --store / GOSTLY_STORE; empty = data_dir/library.db
  /// Keep only this service's interactions; for the library, empty means `default`.
  std::string service;
  /// Keep only this session's interactions; empty = every session.
  std::string session;
};

class InteractionSource {
public:
  using Visit = std::function<void(const record::Interaction&)>;
  virtual ~InteractionSource() = default;

  /// Calls `visit` for every interaction that passes the filters, in recorded order, one at a
  /// time. Call it once: stdin cannot be read twice. Throws InputError (`file:line: field:
  /// reason`) for a bad line.
  virtual void for_each(const Visit& visit) = 0;

  /// The input as messages name it: a file, `<stdin>`, or `<data>/library.db`.
  const std::string& name() const noexcept { return name_; }
  /// Interactions delivered so far.
  std::uint64_t delivered() const noexcept { return delivered_; }

protected:
  explicit InteractionSource(std::string name) : name_(std::move(name)) {}
  std::string name_;
  std::uint64_t delivered_ = 0;
};

/// Interaction JSONL from `in` (named `name` in messages), other record types skipped.
class JsonlSource : public InteractionSource {
public:
  JsonlSource(std::istream& in, std::string name, std::string service = {}, std::string session = {});
  /// Opens `path` ("-" = stdin); throws gostly::Error naming the file.
  explicit JsonlSource(const std::string& path, std::string service = {}, std::string session = {});
  ~JsonlSource() override;
  void for_each(const Visit& visit) override;

private:
  std::unique_ptr<std::istream> owned_;
  std::istream* in_;
  std::string service_, session_;
};

/// The recordings of one service in the library store, optionally one session.
class LibrarySource : public InteractionSource {
public:
  /// Throws NotFoundError when there is no library, no such service or no such session.
  LibrarySource(const store::StoreLocation& library, std::string service, std::string session = {});
  ~LibrarySource() override;
  void for_each(const Visit& visit) override;

private:
  store::StoreLocation library_;
  std::string service_, session_;
};

/// The source `options` describe.
std::unique_ptr<InteractionSource> open_source(const SourceOptions& options);

} // namespace gostly::export_
