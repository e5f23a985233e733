#include "cli/dispatch.hpp"

#include "cli/tool.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

namespace gostly::cli {

namespace {
constexpr const char* kVerbs[] = {"record", "transition", "serve", "seed", "export", "drift", "score"};

void print_usage(std::ostream& out) {
  out << "Usage: gostly <command> [args...]\n\n"
         "Runs gostly-<command>. Commands:\n"
         "  record      a LEARN proxy in the foreground, interactions as JSONL\n"
         "  transition  JSONL in, scrubbed mock library out (data/library.db); bundles\n"
         "  serve       the proxy daemon: LEARN, MOCK, PASSTHROUGH; control API\n"
         "  seed        HAR, Postman and OpenAPI importers\n"
         "  export      HAR, Postman and OpenAPI out of recordings\n"
         "  drift       drift events between recording sessions\n"
         "  score       freshness score per service\n\n"
         "  gostly <command> --help   shows a command's options\n";
}

std::filesystem::path own_directory() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path();
}
} // namespace

int dispatch_main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    print_usage(std::cout);
    return argc < 2 ? kError : kOk;
  }
  std::string verb = argv[1];
  if (verb == "--version") {
    std::cout << version_text("gostly") << "\n";
    return kOk;
  }
  bool known = false;
  for (const char* v : kVerbs) known = known || verb == v;
  if (!known) {
    std::cerr << "gostly: error: '" << verb << "' is not a gostly command\n";
    print_usage(std::cerr);
    return kError;
  }
  std::string program = "gostly-" + verb;
  std::vector<char*> args;
  args.push_back(program.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);

  auto beside = own_directory() / program;
  if (!beside.empty() && ::access(beside.c_str(), X_OK) == 0) ::execv(beside.c_str(), args.data());
  ::execvp(program.c_str(), args.data());
  int saved = errno;
  std::cerr << "gostly: error: cannot run " << program << ": " << std::strerror(saved) << "\n";
  return saved == ENOENT ? 127 : 126;
}

} // namespace gostly::cli
