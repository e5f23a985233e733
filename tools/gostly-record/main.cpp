// gostly-record: a LEARN proxy in the foreground writing interaction JSONL; optionally wraps a command.
#include "cli/tool.hpp"
#include "serve/serve.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Records HTTP traffic through a proxy as interaction JSONL.\n"
               "With -- CMD ARGS, runs CMD with GOSTLY_PROXY_URL and HTTP_PROXY set (with interception also\n"
               "HTTPS_PROXY and the CA bundle variables) and exits with its status."};
  gostly::cli::CommonOptions common;
  gostly::serve::RecordOptions opts;
  gostly::cli::setup_app(app, "gostly-record", common);
  gostly::cli::add_data_option(app, opts.data_dir);
  app.add_option("--upstream", opts.upstream, "Upstream base URL (http(s)://HOST[:PORT][/PATH]); without it, a forward proxy")->envname("BACKEND_URL");
  app.add_option("--listen", opts.listen, "Proxy address HOST:PORT (port 0 picks a free one)")->capture_default_str();
  app.add_option("-o,--output", opts.output, "JSONL output file (- = stdout)")->capture_default_str();
  app.add_flag("--force", opts.force, "Overwrite an existing --output file");
  app.add_option("--service", opts.service, "Service id written in each record")->capture_default_str();
  app.add_option("--session", opts.session, "Session id written in each record (default: a new one)");
  app.add_option("--redact-header", opts.redact_headers, "Also mask this header before writing (repeatable)");
  app.add_flag("--set-proxy-env", opts.set_proxy_env, "Deprecated, does nothing: the proxy variables are always set");
  gostly::serve::add_proxy_settings(app, opts.proxy);
  app.add_option("command", opts.command, "Command to run behind the proxy (after --)");
  return gostly::cli::run_tool(app, "gostly-record", common, argc, argv, [&] {
    return gostly::serve::run_record(opts);
  });
}
