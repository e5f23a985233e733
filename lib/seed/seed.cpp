#include "seed/seed.hpp"

#include "record/codec.hpp"
#include "record/jsonl.hpp"
#include "seed/common.hpp"
#include "seed/spool.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

namespace gostly::seed {

SeedReport import(Format format, std::istream& in, const std::string& source_name, const SeedOptions& options,
                  const Sink& sink) {
  SeedReport report;
  ImportContext context(format, source_name, options, report);
  try {
    switch (format) {
    case Format::har: import_har(in, context, sink); break;
    case Format::postman: import_postman(read_all(in, source_name), context, sink); break;
    case Format::openapi: import_openapi(read_all(in, source_name), context, sink); break;
    }
  } catch (const nlohmann::json::exception& e) {
    // A value of a type the importer did not expect where it did not check (a number too large
    // for a double, an object where text belongs): still bad input, never a crash or a 500.
    throw InputError(source_name, 0, "", std::string("unexpected value: ") + e.what());
  }
  return report;
}

std::pair<std::string, std::string> parse_var(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError("--var " + assignment + ": expected NAME=VALUE");
  return {assignment.substr(0, eq), assignment.substr(eq + 1)};
}

nlohmann::json report_to_json(const SeedReport& report) {
  return nlohmann::json{{"type", "seed_report"},
                        {"format", to_string(report.format)},
                        {"session_id", report.session_id},
                        {"entries", report.entries},
                        {"written", report.written},
                        {"skipped", report.skipped},
                        {"filtered", report.filtered},
                        {"no_response", report.no_response},
                        {"websockets", report.websockets},
                        {"missing_examples", report.missing_examples},
                        {"services", report.services},
                        {"warnings", report.warnings}};
}

namespace {

std::string summary(const SeedReport& report) {
  std::string text = "wrote " + std::to_string(report.written) + " interaction" + (report.written == 1 ? "" : "s") +
                     " from " + std::to_string(report.entries) + " entr" + (report.entries == 1 ? "y" : "ies");
  if (!report.services.empty()) {
    text += " (service" + std::string(report.services.size() == 1 ? " " : "s ");
    for (std::size_t i = 0; i < report.services.size(); ++i) text += (i ? ", " : "") + report.services[i];
    text += ")";
  }
  text += ", session " + report.session_id;
  if (report.skipped) text += "; skipped " + std::to_string(report.skipped) + " bad";
  if (report.missing_examples)
    text += "; " + std::to_string(report.missing_examples) + " request" + (report.missing_examples == 1 ? "" : "s") +
            " without a saved response";
  if (report.no_response) text += "; " + std::to_string(report.no_response) + " without a response (status 0)";
  if (report.websockets)
    text += "; " + std::to_string(report.websockets) + " WebSocket entr" + (report.websockets == 1 ? "y" : "ies") +
            " left out (never replayed)";
  if (report.filtered) text += "; " + std::to_string(report.filtered) + " filtered out by --host";
  return text;
}

} // namespace

int run(Options& options) {
  if (options.output != "-" && options.output == options.input)
    throw UsageError("-o " + options.output + " would overwrite the input");
  options.seed.on_warning = [](const std::string& text) { spdlog::warn("{}", text); };
  record::NamedInput input = record::open_input(options.input);

  SeedReport report;
  if (options.output == "-" && options.format == Format::har) {
    // HAR is streamed, so a fatal error can come after records were converted: they are held
    // back (Spool) and reach stdout only when the whole input imported, never a partial run.
    Spool spool;
    std::string line;
    report = import(options.format, *input.stream, input.name, options.seed, [&](record::Interaction&& interaction) {
      line.clear();
      record::append_line(line, interaction);
      line += '\n';
      spool.write(line);
    });
    spool.publish(STDOUT_FILENO, "<stdout>");
  } else if (options.output == "-") {
    // Postman and OpenAPI documents are validated whole before the first record is emitted.
    record::JsonlWriter writer(STDOUT_FILENO, "<stdout>", record::Flush::batched);
    report = import(options.format, *input.stream, input.name, options.seed,
                    [&](record::Interaction&& interaction) { writer.write(interaction); });
    writer.flush();
  } else {
    // Published by rename only after the whole input imported: a failed run leaves no file.
    util::AtomicFile file(options.output);
    std::string buffer;
    report = import(options.format, *input.stream, input.name, options.seed, [&](record::Interaction&& interaction) {
      buffer += record::encode_line(interaction);
      buffer += '\n';
      if (buffer.size() >= (1u << 16)) {
        file.write(buffer);
        buffer.clear();
      }
    });
    file.write(buffer);
    file.commit();
  }

  if (report.skipped || report.missing_examples || report.websockets) spdlog::warn("{}", summary(report));
  else spdlog::info("{}", summary(report));
  if (options.json_report) {
    std::string line = report_to_json(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0) spdlog::debug("cannot write the report");
  }
  return 0;
}

} // namespace gostly::seed
