#include "export/source.hpp"

#include "record/jsonl.hpp"
#include "store/data_dir.hpp"
#include "store/library_db.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <filesystem>

namespace gostly::export_ {

JsonlSource::JsonlSource(std::istream& in, std::string name, std::string service, std::string session)
    : InteractionSource(std::move(name)), in_(&in), service_(std::move(service)), session_(std::move(session)) {}

JsonlSource::JsonlSource(const std::string& path, std::string service, std::string session)
    : InteractionSource(path), in_(nullptr), service_(std::move(service)), session_(std::move(session)) {
  record::NamedInput input = record::open_input(path);
  name_ = input.name;
  owned_ = std::move(input.owned);
  in_ = input.stream;
}

JsonlSource::~JsonlSource() = default;

void JsonlSource::for_each(const Visit& visit) {
  record::JsonlReader reader(*in_, name_);
  record::Interaction interaction;
  while (reader.next(interaction)) {
    if (!service_.empty() && interaction.service_id != service_) continue;
    if (!session_.empty() && interaction.session_id != session_) continue;
    ++delivered_;
    visit(interaction);
  }
}

LibrarySource::LibrarySource(const store::StoreLocation& library, std::string service, std::string session)
    : InteractionSource(library.name()), library_(library),
      service_(service.empty() ? std::string(record::kDefaultService) : std::move(service)),
      session_(std::move(session)) {
  util::require_safe_id(service_, "service id");
  if (!session_.empty()) util::require_safe_id(session_, "session id");
  // Opening a LibraryDb creates the file: check first, an export must not leave a library behind.
  if (!library_.exists())
    throw NotFoundError(name_ + ": no library yet (record with gostly-record | gostly-transition, or give a JSONL file)");
  store::LibraryDb db(library_);
  if (!db.service(service_)) throw NotFoundError(name_ + ": no service '" + service_ + "'");
  if (!session_.empty() && !db.has_session(service_, session_))
    throw NotFoundError(name_ + ": service '" + service_ + "' has no session '" + session_ + "'");
}

LibrarySource::~LibrarySource() = default;

void LibrarySource::for_each(const Visit& visit) {
  store::LibraryDb db(library_);
  std::optional<std::string> session;
  if (!session_.empty()) session = session_;
  db.for_each_recording(service_, session, false, [&](const record::Interaction& interaction) {
    ++delivered_;
    visit(interaction);
  });
}

std::unique_ptr<InteractionSource> open_source(const SourceOptions& options) {
  if (!options.service.empty()) util::require_safe_id(options.service, "service id");
  if (!options.session.empty()) util::require_safe_id(options.session, "session id");
  if (options.input.empty()) return std::make_unique<LibrarySource>(store::DataDir(options.data_dir, options.store).library(),
                                                                         options.service, options.session);
  return std::make_unique<JsonlSource>(options.input, options.service, options.session);
}

} // namespace gostly::export_
